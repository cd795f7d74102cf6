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

// planeSets recycles the buffers byte planes are decoded into.
var planeSets = sync.Pool{New: func() any { return new([8][]byte) }}

// readPlanes ORs width (<= 8) planes of len(u) bytes into u, combining
// all planes in one pass over u.
func readPlanes(d *decoder, u []uint64, width int) {
	bufs := planeSets.Get().(*[8][]byte)
	defer planeSets.Put(bufs)
	n := len(u)
	var planes [8][]byte
	for b := 0; b < width && d.err == nil; b++ {
		planes[b] = unpackTo(d, n, n, bufs[b])
		// Keep a grown buffer for the next call, unless it is the
		// payload itself (a raw plane): that memory is not ours to reuse.
		if p := planes[b]; cap(p) > cap(bufs[b]) && cap(p) <= 1<<20 && !within(p, d.b) {
			bufs[b] = p[:0]
		}
	}
	if d.err != nil {
		return
	}
	switch width {
	case 1:
		p0 := planes[0][:n]
		for i := range u {
			u[i] |= uint64(p0[i])
		}
	case 2:
		p0, p1 := planes[0][:n], planes[1][:n]
		for i := range u {
			u[i] |= uint64(p0[i]) | uint64(p1[i])<<8
		}
	case 3:
		p0, p1, p2 := planes[0][:n], planes[1][:n], planes[2][:n]
		for i := range u {
			u[i] |= uint64(p0[i]) | uint64(p1[i])<<8 | uint64(p2[i])<<16
		}
	case 4:
		p0, p1, p2, p3 := planes[0][:n], planes[1][:n], planes[2][:n], planes[3][:n]
		for i := range u {
			u[i] |= uint64(p0[i]) | uint64(p1[i])<<8 | uint64(p2[i])<<16 | uint64(p3[i])<<24
		}
	default:
		for b := 0; b < width; b++ {
			shift := uint(8 * b)
			for i, c := range planes[b][:n] {
				u[i] |= uint64(c) << shift
			}
		}
	}
}

// within reports whether p's memory lies inside buf.
func within(p, buf []byte) bool {
	if cap(p) == 0 || cap(buf) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	return at >= start && at < start+uintptr(cap(buf))
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
