package server

import (
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/config"
)

func TestBucketNameFrom(t *testing.T) {
	for in, want := range map[string]string{
		"logs":                        "logs",
		"logs-2026.11.22":             "logs-2026-11-22",
		"filebeat-8.15.0":             "filebeat-8-15-0",
		"fluent-bit":                  "fluent-bit",
		"Logs_App":                    "logs_app",
		".ds-logs-2026":               "ds-logs-2026",
		"_-x":                         "x",
		"a b:c*d":                     "a-b-c-d",
		"로그":                          "",
		"x로그":                         "x--",
		"x\xff":                       "x-",
		"...":                         "",
		"":                            "",
		strings.Repeat("a", 70):       strings.Repeat("a", 63),
		"." + strings.Repeat("B", 70): strings.Repeat("b", 63),
	} {
		got := bucketNameFrom(in)
		if got != want {
			t.Errorf("bucketNameFrom(%q) = %q, want %q", in, got, want)
		}
		if got != "" && (!config.ValidBucketName(got) || bucketNameFrom(got) != got) {
			t.Errorf("bucketNameFrom(%q) = %q is not a valid, stable bucket name", in, got)
		}
	}
}
