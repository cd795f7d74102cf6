package storage

import (
	"encoding/binary"
	"runtime"
	"sync"

	"github.com/klauspost/compress/huff0"
	"github.com/klauspost/compress/zstd"
)

// A packed byte stream is the unit of compression of the format:
//
//	mode    u8       0 raw, 1 rle, 2 zstd, 3 huffman (RFC 8878 §4.2.1, one stream)
//	rawLen  uvarint  decoded length
//	encLen  uvarint  payload length (modes 2 and 3 only)
//	payload          raw: rawLen bytes; rle: 1 byte repeated rawLen times;
//	                 zstd: one zstd frame; huffman: table description + 1X stream
const (
	packRaw  = 0
	packRLE  = 1
	packZstd = 2
	packHuff = 3
)

// packHint says which compressors are worth trying on a stream.
type packHint uint8

const (
	// hintText: zstd (text, length-prefixed strings).
	hintText packHint = iota
	// hintPlane: Huffman and zstd (byte planes of integers, dictionary
	// indexes: skewed byte distributions, sometimes long runs).
	hintPlane
	// hintRandom: zstd at its fastest level only (binary ids, usually
	// incompressible but sometimes repeated).
	hintRandom
)

// zstdLevels maps our level (1..4) to klauspost's encoder levels.
var zstdLevels = [...]zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression, zstd.SpeedBestCompression}

// zstdCodecs holds the shared zstd encoders (one per level, created on
// first use) and the decoder. EncodeAll and DecodeAll are safe for
// concurrent use; these hold no per-call state, only buffers.
var zstdCodecs struct {
	once sync.Once
	dec  *zstd.Decoder
	mu   sync.Mutex // protects enc
	enc  [len(zstdLevels)]*zstd.Encoder
}

func zstdDecoder() *zstd.Decoder {
	zstdCodecs.once.Do(func() {
		zstdCodecs.dec, _ = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithDecoderMaxMemory(maxBlockRaw),
			zstd.IgnoreChecksum(true))
	})
	return zstdCodecs.dec
}

func zstdEncoder(level int) *zstd.Encoder {
	level = min(max(level, 1), len(zstdLevels)-1)
	zstdCodecs.mu.Lock()
	defer zstdCodecs.mu.Unlock()
	if zstdCodecs.enc[level] == nil {
		zstdCodecs.enc[level], _ = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstdLevels[level]),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithEncoderCRC(false),
			zstd.WithSingleSegment(true),
			zstd.WithLowerEncoderMem(true))
	}
	return zstdCodecs.enc[level]
}

// packer compresses byte streams. It keeps scratch buffers and is not safe
// for concurrent use.
type packer struct {
	level   int // 1..4
	zstd    *zstd.Encoder
	fastest *zstd.Encoder
	huff    huff0.Scratch
	zbuf    []byte
}

func newPacker(level int) *packer {
	p := &packer{level: level, zstd: zstdEncoder(level), fastest: zstdEncoder(1)}
	p.huff.Reuse = huff0.ReusePolicyNone
	return p
}

// pack appends src as a packed byte stream to dst.
func (p *packer) pack(dst, src []byte, hint packHint) []byte {
	n := len(src)
	if n == 0 {
		return append(dst, packRaw, 0)
	}
	if allSame(src) {
		dst = append(dst, packRLE)
		dst = binary.AppendUvarint(dst, uint64(n))
		return append(dst, src[0])
	}
	// Compression must save at least 1/32 of the bytes to be worth its
	// decoding time.
	mode, payload := byte(packRaw), src[:n-n/32]
	tryZstd := n >= 32
	if hint == hintPlane && n <= huff0.BlockSizeMax && n >= 16 {
		out, _, err := huff0.Compress1X(src, &p.huff)
		if err == nil && len(out) < len(payload) {
			mode, payload = packHuff, out
		}
		// zstd only beats Huffman coding on very skewed planes (runs);
		// on the rest it costs time for nothing.
		tryZstd = tryZstd && err == nil && len(out) < n/4
	}
	if tryZstd {
		enc := p.zstd
		if hint == hintRandom {
			enc = p.fastest
		}
		p.zbuf = enc.EncodeAll(src, p.zbuf[:0])
		if len(p.zbuf) < len(payload) {
			mode, payload = packZstd, p.zbuf
		}
	}
	if mode == packRaw {
		payload = src
	}
	dst = append(dst, mode)
	dst = binary.AppendUvarint(dst, uint64(n))
	if mode != packRaw {
		dst = binary.AppendUvarint(dst, uint64(len(payload)))
	}
	return append(dst, payload...)
}

func allSame(b []byte) bool {
	c := b[0]
	for _, x := range b[1:] {
		if x != c {
			return false
		}
	}
	return true
}

// zstdSlack is the spare capacity that lets the zstd decoder use its
// fast copy loops.
const zstdSlack = 16

var huffScratch = sync.Pool{New: func() any { return new(huff0.Scratch) }}

// unpack reads a packed byte stream whose decoded length must be wantLen
// (or, when wantLen < 0, at most maxLen). The result may alias d's buffer
// (raw mode); callers must not modify it.
func unpack(d *decoder, wantLen, maxLen int) []byte {
	return unpackTo(d, wantLen, maxLen, nil)
}

// unpackTo is unpack decoding into buf when it is large enough.
func unpackTo(d *decoder, wantLen, maxLen int, buf []byte) []byte {
	mode := d.byte()
	rawLen := d.uvarintMax(uint64(maxLen), "stream length")
	if d.err != nil {
		return nil
	}
	if wantLen >= 0 && rawLen != wantLen {
		d.fail("stream length %d, want %d", rawLen, wantLen)
		return nil
	}
	if mode != packRaw && cap(buf) < rawLen+zstdSlack {
		buf = make([]byte, 0, rawLen+zstdSlack)
	}
	switch mode {
	case packRaw:
		return d.bytes(rawLen)
	case packRLE:
		c := d.byte()
		if d.err != nil {
			return nil
		}
		out := buf[:rawLen]
		for i := range out {
			out[i] = c
		}
		return out
	case packZstd, packHuff:
	default:
		d.fail("unknown stream mode %d", mode)
		return nil
	}
	encLen := d.uvarintMax(uint64(d.remaining()), "encoded stream length")
	payload := d.bytes(encLen)
	if d.err != nil {
		return nil
	}
	var out []byte
	var err error
	if mode == packZstd {
		out, err = zstdDecoder().DecodeAll(payload, buf[:0])
	} else {
		out, err = huffDecode(payload, buf[:0:rawLen])
	}
	if err != nil {
		d.fail("decompress stream: %v", err)
		return nil
	}
	if len(out) != rawLen {
		d.fail("stream decoded to %d bytes, want %d", len(out), rawLen)
		return nil
	}
	return out
}

// huffDecode decodes a Huffman stream of cap(dst) bytes into dst.
func huffDecode(payload []byte, dst []byte) ([]byte, error) {
	if cap(dst) > huff0.BlockSizeMax {
		return nil, dataErrorf("huffman stream of %d bytes", cap(dst))
	}
	s := huffScratch.Get().(*huff0.Scratch)
	defer huffScratch.Put(s)
	s, rest, err := huff0.ReadTable(payload, s)
	if err != nil {
		return nil, err
	}
	return s.Decoder().Decompress1X(dst, rest)
}
