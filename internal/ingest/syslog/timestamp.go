package syslog

import "time"

// Years whose times fit in int64 unix nanoseconds (1677-09-21 to
// 2262-04-11), with a margin for time zone offsets.
const (
	minYear = 1678
	maxYear = 2261
)

// day is 24 hours, the margin by which an RFC 3164 timestamp may lie in
// the future before it is taken to be last year's.
const day = 24 * time.Hour

// parseISO parses an RFC 3339 timestamp at the start of b:
// YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM). The separator 'T' and the 'Z'
// may be lower case, the offset's colon may be missing and the fraction
// may have any number of digits (nanoseconds are kept). With a non-nil
// loc the offset may be missing too and loc applies. It returns the time
// in unix nanoseconds and the bytes consumed.
func parseISO(b []byte, loc *time.Location) (ns int64, n int, ok bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') || b[13] != ':' || b[16] != ':' {
		return 0, 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	mday, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !validDate(year, month, mday) ||
		hour > 23 || minute > 59 || sec > 60 {
		return 0, 0, false
	}
	i := 19
	nsec := 0
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		scale := 100_000_000
		for ; i < len(b) && isDigit(b[i]); i++ {
			nsec += int(b[i]-'0') * scale
			scale /= 10
		}
		if i == start {
			return 0, 0, false
		}
	}
	offset := 0 // seconds east of UTC
	switch {
	case i < len(b) && (b[i] == 'Z' || b[i] == 'z'):
		i++
	case i < len(b) && (b[i] == '+' || b[i] == '-'):
		oh, om, m, ok := parseOffset(b[i+1:])
		if !ok {
			return 0, 0, false
		}
		offset = oh*3600 + om*60
		if b[i] == '-' {
			offset = -offset
		}
		i += 1 + m
	case loc != nil:
		t := time.Date(year, time.Month(month), mday, hour, minute, sec, nsec, loc)
		return t.UnixNano(), i, true
	default:
		return 0, 0, false
	}
	t := time.Date(year, time.Month(month), mday, hour, minute, sec, nsec, time.UTC)
	return t.UnixNano() - int64(offset)*int64(time.Second), i, true
}

// parseOffset parses "HH:MM" or "HHMM" and returns the bytes consumed.
func parseOffset(b []byte) (h, m, n int, ok bool) {
	if len(b) < 4 {
		return 0, 0, 0, false
	}
	h, okh := digits(b[0:2])
	rest, n := b[2:], 4
	if rest[0] == ':' {
		if len(b) < 5 {
			return 0, 0, 0, false
		}
		rest, n = b[3:], 5
	}
	m, okm := digits(rest[0:2])
	if !okh || !okm || h > 23 || m > 59 {
		return 0, 0, 0, false
	}
	return h, m, n, true
}

var monthAbbrev = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// parseStamp parses an RFC 3164 timestamp at the start of b: "Mmm dd
// hh:mm:ss" with the day padded by a space or a zero (or not at all), an
// optional fraction after the seconds and an optional year before the
// time ("Mmm dd yyyy hh:mm:ss", as Cisco sends). Without a year it takes
// the year of now (in loc), or the year before if that puts the time more
// than a day after now. It returns unix nanoseconds and bytes consumed.
func parseStamp(b []byte, now time.Time, loc *time.Location) (ns int64, n int, ok bool) {
	if len(b) < 14 || b[3] != ' ' {
		return 0, 0, false
	}
	month := 0
	for i, name := range monthAbbrev {
		if lower(b[0]) == name[0] && lower(b[1]) == name[1] && lower(b[2]) == name[2] {
			month = i + 1
			break
		}
	}
	if month == 0 {
		return 0, 0, false
	}
	i := 4
	if b[i] == ' ' { // "Nov  1"
		i++
	}
	mday := 0
	start := i
	for ; i < len(b) && i < start+2 && isDigit(b[i]); i++ {
		mday = mday*10 + int(b[i]-'0')
	}
	if i == start || i >= len(b) || b[i] != ' ' {
		return 0, 0, false
	}
	i++
	year := -1
	if len(b) >= i+5 && b[i+4] == ' ' {
		if y, ok := digits(b[i : i+4]); ok {
			year = y
			i += 5
		}
	}
	if len(b) < i+8 || b[i+2] != ':' || b[i+5] != ':' {
		return 0, 0, false
	}
	hour, ok1 := digits(b[i : i+2])
	minute, ok2 := digits(b[i+3 : i+5])
	sec, ok3 := digits(b[i+6 : i+8])
	if !(ok1 && ok2 && ok3) || hour > 23 || minute > 59 || sec > 60 || mday < 1 {
		return 0, 0, false
	}
	i += 8
	nsec := 0
	if i+1 < len(b) && b[i] == '.' && isDigit(b[i+1]) {
		i++
		scale := 100_000_000
		for ; i < len(b) && isDigit(b[i]); i++ {
			nsec += int(b[i]-'0') * scale
			scale /= 10
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	if year < 0 {
		year = now.In(loc).Year()
		t := time.Date(year, time.Month(month), mday, hour, minute, sec, nsec, loc)
		if t.Sub(now) > day {
			year--
		}
	}
	if !validDate(year, month, mday) {
		return 0, 0, false
	}
	return time.Date(year, time.Month(month), mday, hour, minute, sec, nsec, loc).UnixNano(), i, true
}

// digits parses a run of ASCII digits.
func digits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func lower(c byte) byte { return c | 0x20 }

// validDate reports whether year-month-mday is a calendar date whose times
// fit in int64 nanoseconds.
func validDate(year, month, mday int) bool {
	if year < minYear || year > maxYear || month < 1 || month > 12 || mday < 1 {
		return false
	}
	days := [12]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return mday <= days
}
