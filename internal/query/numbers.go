package query

import (
	"math"
	"strconv"
	"strings"
)

// Numeric values follow LogsQL: plain integers and decimals (with optional
// '_' separators and exponent), 0x/0o/0b integers, inf, the short suffixes
// K, KB, Ki, KiB ... T, TiB, and durations (1h30m, 1.5s, 250ms), which count
// in nanoseconds. The same rules parse query arguments and field values.

// parseNumber parses s as any LogsQL numeric value.
func parseNumber(s string) (float64, bool) {
	if f, ok := parseFloatPlain(s); ok {
		return f, true
	}
	if d, ok := parseDuration(s); ok {
		return float64(d), true
	}
	return parseBytes(s)
}

// parseFloatPlain parses a number without unit suffix. NaN is rejected.
func parseFloatPlain(s string) (float64, bool) {
	if len(s) == 0 || len(s) > 64 {
		return 0, false
	}
	if strings.IndexByte(s, '_') >= 0 {
		s = strings.ReplaceAll(s, "_", "")
		if s == "" {
			return 0, false
		}
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	if strings.EqualFold(body, "inf") {
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	if len(body) > 1 && body[0] == '0' && strings.ContainsRune("xXoObB", rune(body[1])) {
		n, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			return 0, false
		}
		return float64(n), true
	}
	if body == "" || !(body[0] >= '0' && body[0] <= '9' || body[0] == '.') {
		return 0, false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// floatPrefix splits s into a leading unsigned decimal number and the rest.
func floatPrefix(s string) (float64, string, bool) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == '_') {
		i++
	}
	if i == 0 {
		return 0, s, false
	}
	f, ok := parseFloatPlain(s[:i])
	return f, s[i:], ok
}

var durationUnits = []struct {
	name string
	ns   float64
}{
	// Longer names first so that "ms" wins over "m".
	{"ns", 1}, {"µs", 1e3}, {"us", 1e3}, {"ms", 1e6},
	{"s", 1e9}, {"m", 60e9}, {"h", 3600e9}, {"d", 86400e9},
	{"w", 7 * 86400e9}, {"y", 365 * 86400e9},
}

// parseDuration parses a LogsQL duration such as 5m, 1h30m or -1.5d into
// nanoseconds. Every number needs a unit.
func parseDuration(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	total := 0.0
	for s != "" {
		f, rest, ok := floatPrefix(s)
		if !ok || math.IsInf(f, 0) {
			return 0, false
		}
		unit := -1.0
		for _, u := range durationUnits {
			if strings.HasPrefix(rest, u.name) {
				unit = u.ns
				rest = rest[len(u.name):]
				break
			}
		}
		if unit < 0 {
			return 0, false
		}
		total += f * unit
		s = rest
	}
	if total >= math.MaxInt64 {
		return 0, false
	}
	if neg {
		total = -total
	}
	return int64(total), true
}

var byteSuffixes = []struct {
	name string
	mul  float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
}

// parseBytes parses a short numeric value with a size suffix: 10KiB, 1.5M.
func parseBytes(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	f, rest, ok := floatPrefix(s)
	if !ok {
		return 0, false
	}
	for _, b := range byteSuffixes {
		if rest == b.name {
			if neg {
				return -f * b.mul, true
			}
			return f * b.mul, true
		}
	}
	return 0, false
}

// parseInt64 parses a plain decimal integer (no separators or units).
func parseInt64(s string) (int64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	c := s[0]
	if !(c >= '0' && c <= '9' || c == '-' && len(s) > 1) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// parseCount parses a non-negative count argument such as the N of
// `limit N`: an integer, optionally with '_' separators or a size suffix.
func parseCount(s string) (uint64, bool) {
	f, ok := parseFloatPlain(s)
	if !ok {
		f, ok = parseBytes(s)
	}
	if !ok || f < 0 || f != math.Trunc(f) || f > 1<<62 {
		return 0, false
	}
	return uint64(f), true
}

// formatFloat formats stats results the way VictoriaLogs does: shortest
// decimal representation without exponent; NaN and ±Inf spelled out.
func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// formatNumberArg formats a parsed numeric argument so that it parses back
// to the identical float64.
func formatNumberArg(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// formatBytes renders a memory size for error messages: 256MiB, 1.5GiB.
func formatBytes(n int64) string {
	units := []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if n >= u.size {
			if n%u.size == 0 {
				return strconv.FormatInt(n/u.size, 10) + u.name
			}
			return strconv.FormatFloat(float64(n)/float64(u.size), 'f', 1, 64) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
