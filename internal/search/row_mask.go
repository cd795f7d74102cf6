package search

import (
	"encoding/binary"
	"math/bits"
	"unsafe"

	"github.com/logbucket/logbucket/internal/storage"
)

// A row mask is a []bool with one entry per row of a block. These helpers
// work on it a word at a time: a bool is one byte holding 0 or 1.

// allRows is a mask of every row of the largest block.
var allRows = func() []bool {
	m := make([]bool, storage.MaxBlockRows)
	for i := range m {
		m[i] = true
	}
	return m
}()

// setAll sets every entry of mask.
func setAll(mask []bool) {
	for len(mask) > 0 {
		mask = mask[copy(mask, allRows):]
	}
}

// maskBytes views mask as bytes (0 or 1 each).
func maskBytes(mask []bool) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(mask))), len(mask))
}

// countSet returns the number of set entries of mask and the first one
// (-1 when none).
func countSet(mask []bool) (n, first int) {
	b := maskBytes(mask)
	first = -1
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		if w != 0 && first < 0 {
			first = i + bits.TrailingZeros64(w)/8
		}
		n += bits.OnesCount64(w)
	}
	for ; i < len(b); i++ {
		if b[i] != 0 {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	return n, first
}

// keepCodes clears the entries of mask whose row's dictionary code k has
// keep[k] == 0 (keep holds 0 or 1 per code).
func keepCodes(mask []bool, codes []byte, keep *[256]byte) {
	b := maskBytes(mask)
	codes = codes[:len(b)]
	for i, k := range codes {
		b[i] &= keep[k]
	}
}
