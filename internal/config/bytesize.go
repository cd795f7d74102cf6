package config

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ByteSize is a count of bytes. It reads plain integers ("4096") and
// numbers with a case-insensitive unit: B, KB, MB, GB, TB (powers of 1000)
// or KiB, MiB, GiB, TiB (powers of 1024), e.g. "256KiB", "1.5GB", "10kb".
// A fraction is allowed as long as the result is a whole number of bytes.
// It prints itself in the largest binary unit that represents it exactly
// ("256KiB", "1536", "0").
//
// ByteSize implements yaml.Unmarshaler, flag.Value and
// encoding.TextMarshaler/TextUnmarshaler, so the same syntax works in the
// YAML file, on the command line and in JSON.
type ByteSize int64

// Binary byte-size units.
const (
	KiB ByteSize = 1 << (10 * (iota + 1))
	MiB
	GiB
	TiB
)

// ParseByteSize parses s as described on ByteSize.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	r, ok := parseDecimal(num)
	if !ok {
		return 0, fmt.Errorf("invalid byte size %q: use a whole number of bytes or a number with a unit "+
			"B, KB, MB, GB, TB, KiB, MiB, GiB or TiB, e.g. 4096, 256KiB, 1.5GB", s)
	}
	mult, ok := byteUnit(unit)
	if !ok {
		return 0, fmt.Errorf("invalid byte size %q: unknown unit %q; use B, KB, MB, GB, TB (powers of 1000) "+
			"or KiB, MiB, GiB, TiB (powers of 1024)", s, unit)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if !r.IsInt() {
		return 0, fmt.Errorf("invalid byte size %q: not a whole number of bytes", s)
	}
	n := r.Num()
	if !n.IsInt64() {
		return 0, fmt.Errorf("invalid byte size %q: too large (the limit is %d bytes)", s, int64(math.MaxInt64))
	}
	return ByteSize(n.Int64()), nil
}

// parseDecimal parses an unsigned decimal number: digits with an optional
// fraction ("12", "1.5"), nothing else (no sign, exponent or bare dot).
func parseDecimal(s string) (*big.Rat, bool) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if !allDigits(whole) || hasDot && !allDigits(frac) {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func byteUnit(unit string) (int64, bool) {
	switch strings.ToLower(unit) {
	case "", "b":
		return 1, true
	case "kb":
		return 1e3, true
	case "mb":
		return 1e6, true
	case "gb":
		return 1e9, true
	case "tb":
		return 1e12, true
	case "kib":
		return int64(KiB), true
	case "mib":
		return int64(MiB), true
	case "gib":
		return int64(GiB), true
	case "tib":
		return int64(TiB), true
	}
	return 0, false
}

// String formats b in the largest binary unit that represents it exactly,
// or as a plain number of bytes.
func (b ByteSize) String() string {
	n := int64(b)
	if n == 0 || n == math.MinInt64 {
		return strconv.FormatInt(n, 10)
	}
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	units := [...]struct {
		size ByteSize
		name string
	}{{TiB, "TiB"}, {GiB, "GiB"}, {MiB, "MiB"}, {KiB, "KiB"}}
	for _, u := range units {
		if n%int64(u.size) == 0 {
			return sign + strconv.FormatInt(n/int64(u.size), 10) + u.name
		}
	}
	return sign + strconv.FormatInt(n, 10)
}

// Set implements flag.Value.
func (b *ByteSize) Set(s string) error {
	v, err := ParseByteSize(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *ByteSize) UnmarshalText(text []byte) error { return b.Set(string(text)) }

// UnmarshalYAML implements yaml.Unmarshaler. It accepts a YAML integer or
// string scalar; errors carry the line number.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return yamlError(n, "a byte size must be a single value such as 64MiB")
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return yamlError(n, err.Error())
	}
	*b = v
	return nil
}

// yamlError reports a bad value at n's line. A *yaml.TypeError lets the
// decoder carry on and report every bad value in the file at once.
func yamlError(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, msg)}}
}
