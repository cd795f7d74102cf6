package config

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"0s", 0},
		{"500ms", 500 * time.Millisecond},
		{"30s", 30 * time.Second},
		{"10m", 10 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"720h", 720 * time.Hour},
		{"30d", 30 * 24 * time.Hour},
		{"1.5d", 36 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"2d30m15s", 48*time.Hour + 30*time.Minute + 15*time.Second},
		{"0d", 0},
		{" 7d ", 7 * 24 * time.Hour},
		{"-1d", -24 * time.Hour},
		{"+2d", 48 * time.Hour},
		{"-1h", -time.Hour},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil {
			t.Errorf("ParseDuration(%q): %v", tt.in, err)
			continue
		}
		if time.Duration(got) != tt.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, time.Duration(got), tt.want)
		}
	}
}

func TestParseDurationInvalid(t *testing.T) {
	tests := []struct {
		in, wantErr string
	}{
		{"", "empty"},
		{"30", "missing unit"},
		{"abc", "not a duration"},
		{"10x", "not a duration"},
		{"d", "day count"},
		{"1.d", "day count"},
		{"-d", "day count"},
		{"1d-2h", "sign is only allowed at the start"},
		{"1dx", "after the days"},
		{"1d2d", "after the days"},
		{"1e3d", "day count"},
		{"200000d", "too large"},
		{"3000000h", "not a duration"},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "e.g. 30s") {
			t.Errorf("ParseDuration(%q) error %q, want it to contain %q and examples", tt.in, err, tt.wantErr)
		}
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{500 * time.Millisecond, "500ms"},
		{30 * time.Second, "30s"},
		{90 * time.Second, "1m30s"},
		{2 * time.Minute, "2m"},
		{10 * time.Minute, "10m"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h30m"},
		{time.Hour + time.Second, "1h0m1s"},
		{24 * time.Hour, "1d"},
		{36 * time.Hour, "36h"},
		{720 * time.Hour, "30d"},
		{-48 * time.Hour, "-2d"},
		{-time.Minute, "-1m"},
	}
	for _, tt := range tests {
		d := Duration(tt.in)
		if got := d.String(); got != tt.want {
			t.Errorf("Duration(%v).String() = %q, want %q", tt.in, got, tt.want)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v back", d.String(), back, err, tt.in)
		}
	}
}

func TestDurationInterfaces(t *testing.T) {
	var d Duration
	if err := d.Set("7d"); err != nil || time.Duration(d) != 7*24*time.Hour {
		t.Fatalf("Set(7d): %v, %v", d, err)
	}
	if err := d.Set("7 days"); err == nil || time.Duration(d) != 7*24*time.Hour {
		t.Fatalf("Set(bad) = %v and left %v; want an error and the value unchanged", err, d)
	}
	if err := d.UnmarshalText([]byte("90s")); err != nil || time.Duration(d) != 90*time.Second {
		t.Fatalf("UnmarshalText(90s): %v, %v", d, err)
	}
	if text, err := Duration(48 * time.Hour).MarshalText(); err != nil || string(text) != "2d" {
		t.Fatalf("MarshalText = %q, %v", text, err)
	}

	var v struct {
		A Duration  `yaml:"a"`
		B Duration  `yaml:"b"`
		C *Duration `yaml:"c"`
	}
	if err := yaml.Unmarshal([]byte("a: 0\nb: 30d\nc: 1h30m\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 0 || time.Duration(v.B) != 720*time.Hour || v.C == nil || time.Duration(*v.C) != 90*time.Minute {
		t.Fatalf("yaml decoded %+v", v)
	}
	for _, bad := range []struct{ doc, want string }{
		{"a: 1s\nb: 30\n", `line 2: invalid duration "30": missing unit`},
		{"a: [1s]\n", "line 1: a duration must be a single value"},
	} {
		err := yaml.Unmarshal([]byte(bad.doc), &v)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("yaml.Unmarshal(%q) error %v, want it to contain %q", bad.doc, err, bad.want)
		}
	}
}
