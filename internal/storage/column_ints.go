package storage

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"unsafe"
)

// Integer sequence ("ints") layout, used for _time, positions, lengths,
// integer columns and template ids:
//
//	transform u8       0 frame of reference: v[i] = base + u[i]
//	                   1 delta: v[i] = v[i-1] + unzigzag(u[i]), v[-1] = base
//	base      varint
//	width     u8       0..8: bytes per u[i]
//	planes    width packed byte streams of n bytes each; plane p holds
//	                   byte p (little endian) of every u[i]
//
// All arithmetic wraps modulo 2^64, so every int64 sequence round-trips.
const (
	intsFOR   = 0
	intsDelta = 1
)

func byteWidth(u uint64) int { return (bits.Len64(u) + 7) / 8 }

// appendInts appends vals as an ints sequence. scratch is reused.
func (p *packer) appendInts(dst []byte, vals []int64, scratch *[]uint64) []byte {
	n := len(vals)
	if n == 0 {
		dst = append(dst, intsFOR)
		dst = binary.AppendVarint(dst, 0)
		return append(dst, 0)
	}
	lo, hi := vals[0], vals[0]
	var maxDelta uint64
	prev := vals[0]
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
		maxDelta = max(maxDelta, zigzag(v-prev))
		prev = v
	}
	transform, base := intsFOR, lo
	width := byteWidth(uint64(hi - lo))
	if w := byteWidth(maxDelta); w < width {
		transform, base, width = intsDelta, vals[0], w
	}
	u := (*scratch)[:0]
	if transform == intsFOR {
		for _, v := range vals {
			u = append(u, uint64(v-lo))
		}
	} else {
		prev := base
		for _, v := range vals {
			u = append(u, zigzag(v-prev))
			prev = v
		}
	}
	*scratch = u
	dst = append(dst, byte(transform))
	dst = binary.AppendVarint(dst, base)
	dst = append(dst, byte(width))
	return p.appendPlanes(dst, u, width)
}

// appendPlanes appends width byte planes of u.
func (p *packer) appendPlanes(dst []byte, u []uint64, width int) []byte {
	if width == 0 {
		return dst
	}
	plane := make([]byte, len(u))
	for b := 0; b < width; b++ {
		shift := uint(8 * b)
		for i, x := range u {
			plane[i] = byte(x >> shift)
		}
		dst = p.pack(dst, plane, hintPlane)
	}
	return dst
}

// planeBufs recycles the buffers byte planes are decoded into.
var planeBufs = sync.Pool{New: func() any { return new([]byte) }}

// readPlanes ORs width planes of len(u) bytes into u.
func readPlanes(d *decoder, u []uint64, width int) {
	bp := planeBufs.Get().(*[]byte)
	defer planeBufs.Put(bp)
	n := len(u)
	for b := 0; b < width && d.err == nil; b++ {
		plane := unpackTo(d, n, n, *bp)
		if cap(plane) > cap(*bp) && cap(plane) <= 1<<20 {
			*bp = plane[:0]
		}
		shift := uint(8 * b)
		for i, c := range plane {
			u[i] |= uint64(c) << shift
		}
	}
}

// readInts decodes an ints sequence of n values into dst (resized).
func readInts(d *decoder, n int, dst []int64) []int64 {
	transform := d.byte()
	base := d.varint()
	width := int(d.byte())
	if d.err != nil {
		return nil
	}
	if transform > intsDelta || width > 8 {
		d.fail("bad ints header (transform %d, width %d)", transform, width)
		return nil
	}
	dst = resize(dst, n)
	clear(dst)
	if width > 0 {
		readPlanes(d, unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(dst))), n), width)
		if d.err != nil {
			return nil
		}
	}
	if transform == intsFOR {
		for i := range dst {
			dst[i] += base
		}
		return dst
	}
	prev := base
	for i, u := range dst {
		prev += unzigzag(uint64(u))
		dst[i] = prev
	}
	return dst
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
