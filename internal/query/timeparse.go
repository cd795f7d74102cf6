package query

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/logbucket/logbucket/internal/model"
)

// parseTimeArg parses an absolute or now-relative timestamp argument of a
// _time filter. It returns the instant and the exclusive end of the unit the
// text names: `2026-01-01` is the whole day, so end is the next midnight;
// `2026-01-01T10:00:00Z` is one second; `.123` fractions are a millisecond
// and other fractions a nanosecond, as in VictoriaLogs.
//
// Accepted: now, now-DURATION, now+DURATION; YYYY, YYYY-MM, YYYY-MM-DD,
// YYYY-MM-DDTHH, YYYY-MM-DDTHH:MM, YYYY-MM-DDTHH:MM:SS[.frac], each with an
// optional Z or ±HH:MM suffix (none means UTC); unix timestamps whose unit
// is decided by magnitude as in model.ParseTime.
func parseTimeArg(s string, now int64) (start, end int64, err error) {
	if t, ok, err := parseNowTime(s, now); ok || err != nil {
		return t, satAdd(t, 1), err
	}
	if startsWithYear(s) {
		return parsePartialTime(s)
	}
	ns, err := model.ParseTime(s)
	if err != nil {
		return 0, 0, fmt.Errorf("cannot parse time %q: %w", s, err)
	}
	return ns, satAdd(ns, 1), nil
}

func parseNowTime(s string, now int64) (int64, bool, error) {
	if len(s) < 3 || !strings.EqualFold(s[:3], "now") {
		return 0, false, nil
	}
	rest := s[3:]
	if rest == "" {
		return now, true, nil
	}
	if rest[0] != '-' && rest[0] != '+' {
		return 0, false, nil
	}
	d, ok := parseDuration(rest[1:])
	if !ok || d < 0 {
		return 0, true, fmt.Errorf("cannot parse duration in %q", s)
	}
	if rest[0] == '-' {
		return satAdd(now, -d), true, nil
	}
	return satAdd(now, d), true, nil
}

// startsWithYear reports whether s starts with four digits followed by
// the end or a date/zone separator.
func startsWithYear(s string) bool {
	if len(s) < 4 {
		return false
	}
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	if len(s) == 4 {
		return true
	}
	c := s[4]
	return c == '-' || c == '+' || c == 'Z' || c == 'z'
}

// splitZone removes a Z or ±HH:MM suffix and returns the location it names.
func splitZone(s string) (string, *time.Location, error) {
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		return s[:len(s)-1], time.UTC, nil
	}
	n := len(s)
	if n < 6+4 || (s[n-6] != '+' && s[n-6] != '-') || s[n-3] != ':' {
		return s, time.UTC, nil
	}
	hh, okH := twoDigits(s[n-5 : n-3])
	mm, okM := twoDigits(s[n-2:])
	if !okH || !okM || hh > 23 || mm > 59 {
		return "", nil, fmt.Errorf("invalid time zone offset %q", s[n-6:])
	}
	off := hh*3600 + mm*60
	if s[n-6] == '-' {
		off = -off
	}
	return s[:n-6], time.FixedZone("", off), nil
}

func twoDigits(s string) (int, bool) {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

func parsePartialTime(s string) (start, end int64, err error) {
	body, loc, err := splitZone(s)
	if err != nil {
		return 0, 0, err
	}
	body = strings.ToUpper(body)
	var layout string
	var step func(t time.Time) time.Time
	switch n := len(body); {
	case n == 4:
		layout, step = "2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	case n == 7:
		layout, step = "2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	case n == 10:
		layout, step = "2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	case n == 13:
		layout, step = "2006-01-02T15", func(t time.Time) time.Time { return t.Add(time.Hour) }
	case n == 16:
		layout, step = "2006-01-02T15:04", func(t time.Time) time.Time { return t.Add(time.Minute) }
	case n == 19:
		layout, step = "2006-01-02T15:04:05", func(t time.Time) time.Time { return t.Add(time.Second) }
	case n == 23 && body[19] == '.':
		layout, step = "2006-01-02T15:04:05.999999999", func(t time.Time) time.Time { return t.Add(time.Millisecond) }
	case n > 20 && body[19] == '.':
		layout, step = "2006-01-02T15:04:05.999999999", func(t time.Time) time.Time { return t.Add(time.Nanosecond) }
	default:
		return 0, 0, fmt.Errorf("cannot parse time %q: want YYYY[-MM[-DD[THH[:MM[:SS[.frac]]]]]][Z|±HH:MM]", s)
	}
	t, err := time.ParseInLocation(layout, body, loc)
	if err != nil {
		return 0, 0, fmt.Errorf("cannot parse time %q: %w", s, err)
	}
	if t.Before(minTime) || t.After(maxTime) {
		return 0, 0, fmt.Errorf("time %q is out of range (1677-09-21..2262-04-11)", s)
	}
	e := step(t)
	if e.After(maxTime) {
		return t.UnixNano(), math.MaxInt64, nil
	}
	return t.UnixNano(), e.UnixNano(), nil
}

// The instants representable as int64 unix nanoseconds.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// FormatTime formats unix nanoseconds as RFC 3339 in UTC with the shortest
// exact fraction, the format of `_time` in query results.
func FormatTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

// parseRowTime parses an explicit `_time` field value (after a pipe turned
// the time into text): RFC 3339 or a unix timestamp.
func parseRowTime(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	ns, err := model.ParseTime(s)
	return ns, err == nil
}
