package model

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseTime parses a log timestamp into unix nanoseconds. It accepts
// RFC 3339 with any fractional precision and any offset (a space instead of
// the 'T' is allowed), and unix timestamps as integers or decimals, whose
// unit is decided by magnitude: below 1e11 seconds, below 1e14
// milliseconds, below 1e17 microseconds, otherwise nanoseconds.
// An error says why s is neither.
func ParseTime(s string) (ns int64, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty timestamp")
	}
	if c := s[0]; c >= '0' && c <= '9' || c == '-' || c == '+' {
		if looksNumeric(s) {
			return parseUnix(s)
		}
	}
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// Accept a lower-case 't'/'z' as RFC 3339 allows.
		if t2, err2 := time.Parse(time.RFC3339Nano, strings.ToUpper(s)); err2 == nil {
			return t2.UnixNano(), nil
		}
		return 0, fmt.Errorf("timestamp %q is neither RFC 3339 nor a unix time", truncateForError(s))
	}
	return t.UnixNano(), nil
}

func looksNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return false
		}
	}
	return true
}

func parseUnix(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return scaleUnix(float64(n), n, true)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("timestamp %q is not a valid unix time", truncateForError(s))
	}
	return scaleUnix(f, 0, false)
}

// scaleUnix converts a unix time of unknown unit to nanoseconds. Integers
// are scaled exactly; decimals through float64 (sub-microsecond precision
// may be lost for decimal seconds, as in every JSON producer).
func scaleUnix(f float64, n int64, isInt bool) (int64, error) {
	abs := math.Abs(f)
	var mul int64
	switch {
	case abs < 1e11:
		mul = 1e9
	case abs < 1e14:
		mul = 1e6
	case abs < 1e17:
		mul = 1e3
	default:
		mul = 1
	}
	if isInt {
		if mul != 1 && (n > math.MaxInt64/mul || n < math.MinInt64/mul) {
			return 0, fmt.Errorf("unix time %d is out of range", n)
		}
		return n * mul, nil
	}
	v := f * float64(mul)
	if v >= math.MaxInt64 || v <= math.MinInt64 {
		return 0, fmt.Errorf("unix time %g is out of range", f)
	}
	return int64(math.Round(v)), nil
}

func truncateForError(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
