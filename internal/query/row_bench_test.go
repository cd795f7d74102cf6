package query

import (
	"strings"
	"testing"
)

// BenchmarkAppendJSONString escapes a typical result line: an access
// line, a Korean message and a Go stack trace (tabs and newlines).
func BenchmarkAppendJSONString(b *testing.B) {
	s := `93.37.60.3 - - "GET /api/v1/guilds/1466/members?limit=50 HTTP/1.1" 200 45642 "GameClient/3.12.1" ` +
		"결제 승인 실패: 잔액 부족 user=u1166261 order=GPA.3384-2209-5524-11034 amount=4900원 " +
		strings.Repeat("github.com/kgames/payment-service/internal/repo.(*UserRepo).Get(0xc000123456, {0x1a2b3c, 0xc0001}, 0x4)\n\t/app/internal/repo/user.go:88 +0x1f4\n", 4)
	b.SetBytes(int64(len(s)))
	var buf []byte
	for b.Loop() {
		buf = appendJSONString(buf[:0], s)
	}
}
