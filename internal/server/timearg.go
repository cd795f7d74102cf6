package server

import (
	"fmt"
	"strings"
	"time"

	"github.com/logbucket/logbucket/internal/config"
	"github.com/logbucket/logbucket/internal/model"
)

// parseTimeArg reads a start/end/time query argument as VictoriaLogs
// does: RFC 3339 (also partial: 2024-01-02Z, 2024-01-02T10:00Z), a unix
// timestamp (seconds, may be fractional; ms/µs/ns by magnitude), "now", or
// a duration meaning that long before now (5m, 1h, 7d).
func parseTimeArg(s string, now time.Time) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "now" {
		return now.UnixNano(), nil
	}
	if d, err := config.ParseDuration(s); err == nil && !strings.ContainsAny(s, ":T") {
		return now.Add(-time.Duration(d)).UnixNano(), nil
	}
	if ns, err := model.ParseTime(s); err == nil {
		return ns, nil
	}
	for _, layout := range []string{"2006-01-02T15:04Z07:00", "2006-01-02T15Z07:00", "2006-01-02Z07:00", "2006-01Z07:00", "2006Z07:00",
		"2006-01-02T15:04", "2006-01-02T15", "2006-01-02", "2006-01"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("time %q is not RFC 3339, a unix timestamp or a duration such as 5m", s)
}
