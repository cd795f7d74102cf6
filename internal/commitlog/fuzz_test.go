package commitlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/model"
)

// segmentHeader returns the 16-byte header of a segment at base.
func segmentHeader(base int64) []byte {
	hdr := make([]byte, segmentHeaderSize)
	copy(hdr, segmentMagic)
	binary.LittleEndian.PutUint16(hdr[4:], segmentVersion)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(base))
	return hdr
}

// fuzzSegment returns the active segment of a small log with single- and
// multi-frame appends, with and without batch ids, in codec.
func fuzzSegment(tb testing.TB, codec Codec) []byte {
	fsys := newMemFS()
	opts := onePartOptions("/data", fsys, nil)
	opts.Codec, opts.MaxBatchBytes = codec, 300
	l, err := Open(opts)
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	if err := l.CreateBucket(context.Background(), "b"); err != nil {
		tb.Fatal(err)
	}
	for i, n := range []int{2, 7, 1} {
		id := ""
		if i != 1 {
			id = "batch-" + itoa(int64(i))
		}
		if _, err := l.Append(context.Background(), AppendRequest{Bucket: "b", BatchID: id, Records: recs("svc", 10*i, n)}); err != nil {
			tb.Fatal(err)
		}
	}
	data, _ := fsys.read(segPath("/data", "b", 0, 0))
	return data
}

// allocated returns the bytes fn allocated (the whole process; fuzz
// functions run one at a time per worker).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// reseal walks the frames of a segment by their length fields and fixes
// up their CRCs, so the fuzzer's changes to headers and payloads get past
// the checksum.
func reseal(seg []byte) {
	pos := segmentHeaderSize
	for pos+batchFixedHeader <= len(seg) {
		end := pos + batchLengthPrefix + int(binary.LittleEndian.Uint32(seg[pos+8:]))
		if end < pos+batchFixedHeader || end > len(seg) {
			return
		}
		binary.LittleEndian.PutUint32(seg[pos+12:], crc32.Checksum(seg[pos+16:end], castagnoli))
		pos = end
	}
}

// checkGroups fails unless the frames of a segment file continue each
// other's offsets from base and form complete groups.
func checkGroups(t *testing.T, file []byte, base int64) (records int64) {
	t.Helper()
	next, part := base, uint16(0)
	var parts uint16
	for _, f := range walkFrames(t, file) {
		if f.h.BaseOffset != next {
			t.Fatalf("kept frame at %d has base %d, want %d", f.pos, f.h.BaseOffset, next)
		}
		if f.h.Part != part || (part > 0 && f.h.Parts != parts) {
			t.Fatalf("kept frame at %d is part %d/%d, want part %d", f.pos, f.h.Part, f.h.Parts, part)
		}
		parts, part = f.h.Parts, f.h.Part+1
		if f.h.groupDone() {
			part = 0
		}
		next = f.h.lastOffset() + 1
		records += int64(f.h.Count)
	}
	if part != 0 {
		t.Fatalf("kept an incomplete group (%d of %d parts)", part, parts)
	}
	return records
}

// FuzzSegmentRecovery opens a log whose only segment holds arbitrary bytes
// after a valid header (whole=false) or is arbitrary altogether
// (whole=true); with resealed, the frames' CRCs are fixed up first. Open
// must not panic or allocate without bound; with a valid header it must
// succeed and keep a prefix of the file made of valid frames in complete
// groups at gap-free offsets; what it keeps must read back (except that a
// resealed frame's payload may be garbage the CRC no longer catches), and
// the log must append on after it and keep all of it across a reopen.
func FuzzSegmentRecovery(f *testing.F) {
	f.Add([]byte{}, false, false)
	f.Add([]byte("LBCL"), true, false)
	for _, codec := range []Codec{CodecNone, CodecZstd, CodecS2} {
		seg := fuzzSegment(f, codec)
		f.Add(seg[segmentHeaderSize:], false, false)
		f.Add(seg[segmentHeaderSize:len(seg)-9], false, true)
		f.Add(seg, true, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, whole, resealed bool) {
		// A copy: reseal writes into it, and the fuzzing engine's input
		// must stay as it was (the engine reuses it for the next inputs and
		// records it when this one fails).
		content := bytes.Clone(data)
		if !whole {
			content = append(segmentHeader(0), data...)
		}
		if resealed {
			reseal(content)
		}
		fsys := newMemFS()
		if err := createBucketFiles(fsys, "/data", "b", 1, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
		seg := segPath("/data", "b", 0, 0)
		if err := fsys.MkdirAll(partitionDir(bucketDir("/data", "b"), 0), 0o755); err != nil {
			t.Fatal(err)
		}
		fsys.write(seg, content)
		opts := onePartOptions("/data", fsys, nil)
		var (
			l    *Embedded
			err  error
			kept []Stored
			rerr error
		)
		n := allocated(func() {
			l, err = Open(opts)
			if err == nil {
				kept, rerr = readPartition(l, "b", 0)
			}
		})
		limit := uint64(32<<20 + 64*len(content))
		if resealed {
			limit += 3 * maxPayloadLength // a frame may claim any payload size up to the limit
		}
		if n > limit {
			t.Fatalf("open and read of a %d-byte segment allocated %d bytes", len(content), n)
		}
		if err != nil {
			if !whole {
				t.Fatalf("open with a valid segment header: %v", err)
			}
			return
		}
		defer l.Close()
		if rerr != nil && !(resealed && errors.Is(rerr, ErrCorrupt)) {
			t.Fatalf("read what recovery kept: %v", rerr)
		}
		for i, s := range kept {
			if s.Offset != int64(i) {
				t.Fatalf("record %d has offset %d", i, s.Offset)
			}
		}
		file, _ := fsys.read(seg)
		if !bytes.HasPrefix(content, file) && len(content) >= segmentHeaderSize {
			t.Fatalf("recovery kept %d bytes that are not a prefix of the %d-byte file", len(file), len(content))
		}
		count := checkGroups(t, file, 0)
		if rerr == nil && count != int64(len(kept)) {
			t.Fatalf("kept frames hold %d records, read %d", count, len(kept))
		}
		extra := recs("svc", 0, 3)
		res, err := l.Append(context.Background(), AppendRequest{Bucket: "b", Records: extra})
		if err != nil {
			t.Fatalf("append after recovery: %v", err)
		}
		if res.Partitions[0].First != count {
			t.Fatalf("append after recovery at %d, want %d", res.Partitions[0].First, count)
		}
		l.Close()
		l2, err := Open(opts)
		if err != nil {
			t.Fatalf("second open: %v", err)
		}
		defer l2.Close()
		if rerr != nil {
			return
		}
		again, err := readPartition(l2, "b", 0)
		if err != nil {
			t.Fatalf("read after second open: %v", err)
		}
		if len(again) != len(kept)+len(extra) || len(kept) > 0 && !reflect.DeepEqual(again[:len(kept)], kept) {
			t.Fatalf("second open reads %d records, want %d then %d new", len(again), len(kept), len(extra))
		}
	})
}

// FuzzDecodeFrame runs checkFrame and decodeFrame on arbitrary bytes. With
// reseal the length and CRC fields are fixed up first, so the fuzzer
// reaches the decompressors and the record decoder. A frame that decodes
// holds exactly its header's record count, at consecutive offsets, and
// survives a re-encode.
func FuzzDecodeFrame(f *testing.F) {
	for _, codec := range []Codec{CodecNone, CodecZstd, CodecS2} {
		fr, _ := encodeFrame(recs("svc", 0, 3), codec, "batch-1", 0, 1, 1_700_000_000_000_000_000, nil)
		f.Add(fr, false)
	}
	f.Fuzz(func(t *testing.T, frame []byte, reseal bool) {
		if reseal && len(frame) >= batchFixedHeader {
			binary.LittleEndian.PutUint32(frame[8:], uint32(len(frame)-batchLengthPrefix))
			binary.LittleEndian.PutUint32(frame[12:], crc32.Checksum(frame[16:], castagnoli))
		}
		var (
			h   batchHeader
			err error
			got []model.Record
		)
		n := allocated(func() {
			h, err = checkFrame(frame)
			if err != nil {
				return
			}
			err = decodeFrame(frame, h, func(off int64, r model.Record) bool {
				if off != h.BaseOffset+int64(len(got)) {
					t.Fatalf("record %d has offset %d, base %d", len(got), off, h.BaseOffset)
				}
				got = append(got, r)
				return true
			})
		})
		if limit := uint64(3*maxPayloadLength + 64*len(frame)); n > limit {
			t.Fatalf("decoding a %d-byte frame allocated %d bytes", len(frame), n)
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if int64(len(got)) != int64(h.Count) {
			t.Fatalf("decoded %d records, header says %d", len(got), h.Count)
		}
		re, _ := encodeFrame(got, h.Codec, h.BatchID, int(h.Part), int(h.Parts), h.AppendTime, nil)
		setBaseOffset(re, h.BaseOffset)
		h2, err := checkFrame(re)
		if err != nil {
			t.Fatalf("re-encoded frame: %v", err)
		}
		var again []model.Record
		if err := decodeFrame(re, h2, func(_ int64, r model.Record) bool { again = append(again, r); return true }); err != nil {
			t.Fatalf("decode re-encoded frame: %v", err)
		}
		if !reflect.DeepEqual(normalize(again), normalize(got)) {
			t.Fatalf("re-encode changed the records:\n%+v\n%+v", again, got)
		}
	})
}

// normalize maps empty field lists to nil, which the encoding does not
// distinguish.
func normalize(rs []model.Record) []model.Record {
	out := make([]model.Record, len(rs))
	for i, r := range rs {
		if len(r.Stream) == 0 {
			r.Stream = nil
		}
		if len(r.Fields) == 0 {
			r.Fields = nil
		}
		out[i] = r
	}
	return out
}
