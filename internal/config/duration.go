package config

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration that also reads a leading day count: besides
// Go syntax ("30s", "10m", "1h30m", "720h") it accepts "30d", "1.5d" and
// "1d12h", where a day is 24 hours. It prints itself compactly: whole days
// as "30d", otherwise Go syntax without trailing zero units ("2m", "1h30m").
//
// Convert with time.Duration(d) where the standard library wants one.
// Duration implements yaml.Unmarshaler, flag.Value and
// encoding.TextMarshaler/TextUnmarshaler.
type Duration time.Duration

const day = 24 * time.Hour

// ParseDuration parses s as described on Duration.
func ParseDuration(s string) (Duration, error) {
	bad := func(why string) (Duration, error) {
		return 0, fmt.Errorf("invalid duration %q: %s; use a number with a unit "+
			"ns, us, ms, s, m, h or d, e.g. 30s, 10m, 1h30m, 30d", s, why)
	}
	t := strings.TrimSpace(s)
	if t == "" {
		return bad("empty")
	}
	body, neg := t, false
	if body[0] == '-' || body[0] == '+' {
		body, neg = body[1:], body[0] == '-'
	}
	days, rest, hasDays := strings.Cut(body, "d")
	if !hasDays {
		d, err := time.ParseDuration(t)
		if err != nil {
			if allDigits(body) {
				return bad("missing unit")
			}
			return bad("not a duration")
		}
		return Duration(d), nil
	}
	r, ok := parseDecimal(days)
	if !ok {
		return bad("the day count must be a number such as 30d or 1.5d")
	}
	r.Mul(r, new(big.Rat).SetInt64(int64(day)))
	ns := new(big.Int).Quo(r.Num(), r.Denom())
	var extra time.Duration
	if rest != "" {
		if rest[0] == '-' || rest[0] == '+' {
			return bad("a sign is only allowed at the start")
		}
		var err error
		if extra, err = time.ParseDuration(rest); err != nil {
			return bad("after the days, expected Go duration syntax such as 12h")
		}
	}
	ns.Add(ns, big.NewInt(int64(extra)))
	if !ns.IsInt64() {
		return bad("too large")
	}
	d := ns.Int64()
	if neg {
		d = -d
	}
	return Duration(d), nil
}

// String formats d compactly; ParseDuration reads the result back.
func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%day == 0 && td != math.MinInt64 {
		return strconv.FormatInt(int64(td/day), 10) + "d"
	}
	s := td.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// Set implements flag.Value.
func (d *Duration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(text []byte) error { return d.Set(string(text)) }

// UnmarshalYAML implements yaml.Unmarshaler; errors carry the line number.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return yamlError(n, "a duration must be a single value such as 30s or 7d")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return yamlError(n, err.Error())
	}
	*d = v
	return nil
}
