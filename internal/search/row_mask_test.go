package search

import (
	"math/rand/v2"
	"testing"
)

func TestRowMaskHelpers(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 65, 1000, 70000} {
		mask := make([]bool, n)
		setAll(mask)
		for i, m := range mask {
			if !m {
				t.Fatalf("n=%d: setAll left entry %d clear", n, i)
			}
		}
		codes := make([]byte, n)
		var keep [256]byte
		for k := range keep {
			keep[k] = byte(r.IntN(2))
		}
		wantN, wantFirst := 0, -1
		for i := range codes {
			codes[i] = byte(r.IntN(256))
			if r.IntN(3) == 0 {
				mask[i] = false // already cleared by an earlier filter
			}
		}
		want := make([]bool, n)
		for i := range want {
			want[i] = mask[i] && keep[codes[i]] == 1
			if want[i] {
				wantN++
				if wantFirst < 0 {
					wantFirst = i
				}
			}
		}
		keepCodes(mask, codes, &keep)
		for i := range mask {
			if mask[i] != want[i] {
				t.Fatalf("n=%d: keepCodes entry %d = %v, want %v", n, i, mask[i], want[i])
			}
		}
		if got, first := countSet(mask); got != wantN || first != wantFirst {
			t.Fatalf("n=%d: countSet = %d, %d; want %d, %d", n, got, first, wantN, wantFirst)
		}
	}
}
