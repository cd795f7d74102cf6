package query

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// ParseError is the error Parse returns: what is wrong, and where.
type ParseError struct {
	// Pos is the byte offset in the query where the problem was found.
	Pos int
	// Msg says what is wrong.
	Msg string
	// Query is the parsed text, for the context shown by Error.
	Query string
}

// Error names the position and quotes the text around it.
func (e *ParseError) Error() string {
	return fmt.Sprintf("cannot parse query at position %d%s: %s", e.Pos, e.near(), e.Msg)
}

func (e *ParseError) near() string {
	if e.Pos < 0 || e.Pos > len(e.Query) {
		return ""
	}
	tail := e.Query[e.Pos:]
	if tail == "" {
		return " (end of query)"
	}
	if len(tail) > 20 {
		cut := 20
		for cut > 0 && !utf8.RuneStart(tail[cut]) {
			cut--
		}
		tail = tail[:cut] + "..."
	}
	return " near " + strconv.Quote(tail)
}

// ErrLimit is wrapped by every error that stops a query because it hit one
// of its Limits (memory, output rows, timeout); test with errors.Is.
var ErrLimit = errors.New("query limit reached")

// ErrStop may be returned by the out callback of Run to end the query early
// without an error. Run then returns nil.
var ErrStop = errors.New("stop the query")

// limitError is an ErrLimit with the user-facing explanation.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

func (e *limitError) Is(target error) bool { return target == ErrLimit }

func memoryLimitError(limit int64, what string) error {
	return &limitError{msg: fmt.Sprintf("query needs more than %s for %q: narrow the time range or raise query.max_memory_bytes",
		formatBytes(limit), what)}
}

func rowsLimitError(limit int64) error {
	return &limitError{msg: fmt.Sprintf("query returns more than %d rows: add `| limit N` or raise query.max_rows", limit)}
}

func timeoutError(d time.Duration) error {
	return &limitError{msg: fmt.Sprintf("query did not finish within %s: narrow the time range or raise query.timeout", d)}
}
