package config

import (
	"encoding/json"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
	}{
		{"0", 0},
		{"4096", 4096},
		{"  4096 ", 4096},
		{"12B", 12},
		{"12b", 12},
		{"256KiB", 256 * KiB},
		{"256kib", 256 * KiB},
		{"256 KiB", 256 * KiB},
		{"64MiB", 64 * MiB},
		{"1GiB", GiB},
		{"2TiB", 2 * TiB},
		{"10kb", 10000},
		{"10KB", 10000},
		{"3MB", 3000000},
		{"1.5GB", 1500000000},
		{"1TB", 1000000000000},
		{"1.5KiB", 1536},
		{"0.5MiB", 512 * KiB},
		{"007", 7},
		{"9223372036854775807", 1<<63 - 1},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if err != nil {
			t.Errorf("ParseByteSize(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseByteSize(%q) = %d, want %d", tt.in, int64(got), int64(tt.want))
		}
	}
}

func TestParseByteSizeInvalid(t *testing.T) {
	tests := []struct {
		in, wantErr string
	}{
		{"", "invalid byte size"},
		{"KiB", "invalid byte size"},
		{"-1", "invalid byte size"},
		{"+1", "invalid byte size"},
		{"1e3", "unknown unit"},
		{"1.", "invalid byte size"},
		{".5KiB", "invalid byte size"},
		{"1..5", "invalid byte size"},
		{"12x", `unknown unit "x"`},
		{"1K", `unknown unit "K"`},
		{"1 KiB B", "unknown unit"},
		{"1.5B", "not a whole number of bytes"},
		{"0.1KiB", "not a whole number of bytes"},
		{"9223372036854775808", "too large"},
		{"8EiB", "unknown unit"},
		{"10000000TB", "too large"},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if err == nil {
			t.Errorf("ParseByteSize(%q) = %v, want an error", tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.in) {
			t.Errorf("ParseByteSize(%q) error %q, want it to quote the input and contain %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestByteSizeString(t *testing.T) {
	tests := []struct {
		in   ByteSize
		want string
	}{
		{0, "0"},
		{1, "1"},
		{12, "12"},
		{1000, "1000"},
		{1023, "1023"},
		{1024, "1KiB"},
		{1536, "1536"},
		{256 * KiB, "256KiB"},
		{1024 * KiB, "1MiB"},
		{64 * MiB, "64MiB"},
		{1536 * MiB, "1536MiB"},
		{GiB, "1GiB"},
		{3 * TiB, "3TiB"},
		{2048 * TiB, "2048TiB"},
		{-2 * KiB, "-2KiB"},
		{-5, "-5"},
		{-1 << 63, "-9223372036854775808"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("ByteSize(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
		if tt.in < 0 {
			continue
		}
		back, err := ParseByteSize(tt.in.String())
		if err != nil || back != tt.in {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d back", tt.in.String(), int64(back), err, int64(tt.in))
		}
	}
}

func TestByteSizeInterfaces(t *testing.T) {
	var b ByteSize
	if err := b.Set("2MiB"); err != nil || b != 2*MiB {
		t.Fatalf("Set(2MiB): %v, %v", b, err)
	}
	if err := b.Set("2 lightyears"); err == nil || b != 2*MiB {
		t.Fatalf("Set(bad) = %v and left %v; want an error and the value unchanged", err, b)
	}
	if err := b.UnmarshalText([]byte("1.5kb")); err != nil || b != 1500 {
		t.Fatalf("UnmarshalText(1.5kb): %v, %v", b, err)
	}
	text, err := (256 * KiB).MarshalText()
	if err != nil || string(text) != "256KiB" {
		t.Fatalf("MarshalText = %q, %v", text, err)
	}
	j, err := json.Marshal(struct{ S ByteSize }{64 * MiB})
	if err != nil || string(j) != `{"S":"64MiB"}` {
		t.Fatalf("json.Marshal = %s, %v", j, err)
	}

	var v struct {
		A ByteSize `yaml:"a"`
		B ByteSize `yaml:"b"`
		C ByteSize `yaml:"c"`
	}
	if err := yaml.Unmarshal([]byte("a: 4096\nb: 64MiB\nc: \"1.5GB\"\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 4096 || v.B != 64*MiB || v.C != 1500000000 {
		t.Fatalf("yaml decoded %+v", v)
	}
	out, err := yaml.Marshal(v)
	if err != nil || string(out) != "a: 4KiB\nb: 64MiB\nc: \"1500000000\"\n" {
		t.Fatalf("yaml.Marshal = %q, %v", out, err)
	}

	for _, bad := range []struct{ doc, want string }{
		{"a: 1\nb: 12q\n", `line 2: invalid byte size "12q"`},
		{"a: [1]\n", "line 1: a byte size must be a single value"},
		{"a: {x: 1}\n", "line 1: a byte size must be a single value"},
	} {
		err := yaml.Unmarshal([]byte(bad.doc), &v)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("yaml.Unmarshal(%q) error %v, want it to contain %q", bad.doc, err, bad.want)
		}
	}
}
