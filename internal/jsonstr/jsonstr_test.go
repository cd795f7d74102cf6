package jsonstr

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppend(t *testing.T) {
	cases := map[string]string{
		"plain":           `"plain"`,
		"quote\"back\\":   `"quote\"back\\"`,
		"nl\nctl\x01\x1b": `"nl\nctl\u0001\u001b"`,
		"bad\xffutf":      `"bad\ufffdutf"`,
		"한글 결제":           `"한글 결제"`,
		"<script>":        `"<script>"`,
	}
	for in, want := range cases {
		got := string(Append(nil, in))
		if got != want {
			t.Errorf("Append(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("%s is not valid JSON: %v", got, err)
		}
	}
}

// FuzzAppend: the word-at-a-time escaper writes exactly what the
// byte-at-a-time definition writes, and that is valid JSON.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "plain ascii text that is long", "tab\there \"q\" back\\slash\n",
		"결제 실패: 잔액 부족 \x01\x1f", "bad \xff\xfe utf8 \xed\xa0\x80 end", "12345678\"12345678\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := string(Append([]byte("x"), s))
		want := "x" + string(appendByByte(nil, s))
		if got != want {
			t.Fatalf("Append(%q) = %s, want %s", s, got, want)
		}
		if !json.Valid([]byte(got[1:])) {
			t.Fatalf("invalid JSON %s", got[1:])
		}
	})
}

// appendByByte is the definition: each byte or rune on its own.
func appendByByte(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// BenchmarkAppend escapes a typical result line: an access line, a Korean
// message and a Go stack trace (tabs and newlines).
func BenchmarkAppend(b *testing.B) {
	s := `93.37.60.3 - - "GET /api/v1/guilds/1466/members?limit=50 HTTP/1.1" 200 45642 "GameClient/3.12.1" ` +
		"결제 승인 실패: 잔액 부족 user=u1166261 order=GPA.3384-2209-5524-11034 amount=4900원 " +
		strings.Repeat("github.com/kgames/payment-service/internal/repo.(*UserRepo).Get(0xc000123456, {0x1a2b3c, 0xc0001}, 0x4)\n\t/app/internal/repo/user.go:88 +0x1f4\n", 4)
	b.SetBytes(int64(len(s)))
	var buf []byte
	for b.Loop() {
		buf = Append(buf[:0], s)
	}
}
