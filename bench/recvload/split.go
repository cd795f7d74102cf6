package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// The CPU profile of a server run is split by what each sample's stack
// is doing, the first rule that matches winning:
//
//	indexer  a frame in internal/indexer or internal/storage (parts, merges,
//	         its commit-log reads)
//	query    a frame in internal/search or internal/query (the count() polls)
//	ingest   a frame in an ingest handler, internal/ingest/... (decoders,
//	         syslog listener) or internal/commitlog (append, compression,
//	         fsync): the receiver path, what differs between formats
//	gc       background GC workers (mark assists are in the path that allocates)
//	other    the rest (HTTP connection loop, scheduler, profiler)
var splitRules = []struct {
	name     string
	prefixes []string
}{
	{"indexer", []string{"github.com/logbucket/logbucket/internal/indexer.", "github.com/logbucket/logbucket/internal/storage."}},
	{"query", []string{"github.com/logbucket/logbucket/internal/search.", "github.com/logbucket/logbucket/internal/query."}},
	{"ingest", []string{
		"github.com/logbucket/logbucket/internal/server.(*Server).handleIngest",
		"github.com/logbucket/logbucket/internal/server.(*Server).handleLokiPush",
		"github.com/logbucket/logbucket/internal/server.(*Server).handleOTLPLogs",
		"github.com/logbucket/logbucket/internal/server.(*Server).handleESBulk",
		"github.com/logbucket/logbucket/internal/ingest.",
		"github.com/logbucket/logbucket/internal/ingest/",
		"github.com/logbucket/logbucket/internal/commitlog.",
	}},
	{"gc", []string{"runtime.gcBgMarkWorker", "runtime.bgsweep", "runtime.bgscavenge"}},
}

var splitNames = []string{"ingest", "indexer", "query", "gc", "other"}

// The ingest part is divided further by the frame nearest the leaf that
// names a stage (so the allocations and GC assists of a stage count in it):
//
//	body       reading the request body or the syslog connection
//	decode     the format's decoder (internal/ingest/<format>, pdata,
//	           json-iterator, fastjson, snappy, protowire)
//	build      building records (internal/ingest's Builder, internal/model)
//	commitlog  append, compression, write, fsync
//	answer     writing the answer
//	glue       the rest of the handler and the HTTP server
var stageRules = []struct {
	name     string
	prefixes []string
}{
	{"body", []string{"internal/poll.(*FD).Read", "io.ReadAll", "github.com/logbucket/logbucket/internal/server.(*ingestCall).readBody"}},
	{"answer", []string{"net/http.(*response)", "net/http.(*chunkWriter)", "github.com/logbucket/logbucket/internal/ingest/esbulk.(*Batch).AppendResponse",
		"github.com/logbucket/logbucket/internal/server.writeJSON"}},
	{"build", []string{"github.com/logbucket/logbucket/internal/ingest.", "github.com/logbucket/logbucket/internal/model."}},
	{"commitlog", []string{"github.com/logbucket/logbucket/internal/commitlog."}},
	{"decode", []string{"github.com/logbucket/logbucket/internal/ingest/", "go.opentelemetry.io/", "github.com/json-iterator/",
		"github.com/valyala/fastjson", "github.com/klauspost/compress/s2", "google.golang.org/protobuf/"}},
}

var stageNames = []string{"body", "decode", "build", "commitlog", "answer", "glue"}

// runSplit prints the CPU seconds of each part of one or more CPU
// profiles (gzipped pprof protobuf, as /debug/pprof/profile serves them),
// the ingest part by stage, and with -top N the functions the ingest part
// spends most in (flat).
func runSplit(args []string) error {
	fs := flag.NewFlagSet("split", flag.ExitOnError)
	top := fs.Int("top", 0, "also list the N functions the ingest part spends most CPU in (flat)")
	_ = fs.Parse(args)
	if fs.NArg() == 0 {
		return errors.New("split: name one or more CPU profiles")
	}
	sum := map[string]float64{}
	stages := map[string]float64{}
	flat := map[string]float64{}
	total := 0.0
	for _, file := range fs.Args() {
		p, err := readProfile(file)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		for _, s := range p.samples {
			secs := float64(s.value) / 1e9
			part := p.classify(s.locs)
			sum[part] += secs
			total += secs
			if part == "ingest" && len(s.locs) > 0 {
				stages[p.stage(s.locs)] += secs
				if fns := p.locFuncs[s.locs[0]]; len(fns) > 0 {
					flat[fns[0]] += secs
				}
			}
		}
	}
	fmt.Printf("SPLIT total_s=%.3f", total)
	for _, n := range splitNames {
		fmt.Printf(" %s_s=%.3f", n, sum[n])
	}
	fmt.Println()
	fmt.Print("STAGES")
	for _, n := range stageNames {
		fmt.Printf(" %s_s=%.3f", n, stages[n])
	}
	fmt.Println()
	if *top > 0 {
		type fv struct {
			f string
			v float64
		}
		var l []fv
		for f, v := range flat {
			l = append(l, fv{f, v})
		}
		sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v })
		for i := 0; i < len(l) && i < *top; i++ {
			fmt.Printf("  %6.2fs %5.1f%%  %s\n", l[i].v, 100*l[i].v/max(sum["ingest"], 1e-9), l[i].f)
		}
	}
	return nil
}

type sample struct {
	locs  []uint64 // leaf first
	value int64    // CPU nanoseconds
}

type profile struct {
	samples  []sample
	locFuncs map[uint64][]string // location id -> function names, innermost first
}

// classify names the part a stack belongs to.
func (p *profile) classify(locs []uint64) string {
	for _, r := range splitRules {
		for _, l := range locs {
			for _, fn := range p.locFuncs[l] {
				for _, pre := range r.prefixes {
					if strings.HasPrefix(fn, pre) {
						return r.name
					}
				}
			}
		}
	}
	return "other"
}

// stage names the stage of an ingest sample: the first rule matching
// the frame nearest the leaf.
func (p *profile) stage(locs []uint64) string {
	for _, l := range locs {
		for _, fn := range p.locFuncs[l] {
			for _, r := range stageRules {
				for _, pre := range r.prefixes {
					if strings.HasPrefix(fn, pre) {
						return r.name
					}
				}
			}
		}
	}
	return "glue"
}

// readProfile decodes the parts of a pprof profile that split needs
// (profile.proto: sample_type 1, sample 2, location 4, function 5,
// string_table 6).
func readProfile(file string) (*profile, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	var (
		t          tables
		rawSamples [][]byte
	)
	t.locLines, t.funcName = map[uint64][]uint64{}, map[uint64]int64{}
	err = eachField(raw, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		if num == 2 {
			rawSamples = append(rawSamples, v)
			return nil
		}
		return t.add(num, v)
	})
	if err != nil {
		return nil, err
	}
	// The value to sum: cpu (nanoseconds), else the last one.
	vi := len(t.sampleType) - 1
	for i, st := range t.sampleType {
		if int(st) < len(t.strs) && t.strs[st] == "cpu" {
			vi = i
		}
	}
	if vi < 0 {
		return nil, errors.New("no sample types: not a pprof profile")
	}
	p := &profile{locFuncs: t.locationNames()}
	for _, b := range rawSamples { // Sample{1: repeated location_id, 2: repeated value}
		var s sample
		var vals []uint64
		err := eachField(b, func(n protowire.Number, typ protowire.Type, v []byte, x uint64) error {
			switch n {
			case 1:
				s.locs = appendPacked(s.locs, typ, v, x)
			case 2:
				vals = appendPacked(vals, typ, v, x)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if vi < len(vals) {
			s.value = int64(vals[vi])
		}
		p.samples = append(p.samples, s)
	}
	return p, nil
}

// tables are a profile's string table, sample types, locations and
// functions.
type tables struct {
	strs       []string
	sampleType []int64             // type string index of each value
	locLines   map[uint64][]uint64 // location id -> function ids, innermost first
	funcName   map[uint64]int64    // function id -> name string index
}

// add decodes one top-level field of the profile into t.
func (t *tables) add(num protowire.Number, v []byte) error {
	switch num {
	case 1: // ValueType{1: type, 2: unit}
		var typ int64
		err := eachField(v, func(n protowire.Number, _ protowire.Type, _ []byte, x uint64) error {
			if n == 1 {
				typ = int64(x)
			}
			return nil
		})
		t.sampleType = append(t.sampleType, typ)
		return err
	case 4: // Location{1: id, 4: repeated Line{1: function_id}}
		var id uint64
		var fns []uint64
		err := eachField(v, func(n protowire.Number, typ protowire.Type, b []byte, x uint64) error {
			switch {
			case n == 1 && typ == protowire.VarintType:
				id = x
			case n == 4 && typ == protowire.BytesType:
				return eachField(b, func(n protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
					if n == 1 && typ == protowire.VarintType {
						fns = append(fns, x)
					}
					return nil
				})
			}
			return nil
		})
		t.locLines[id] = fns
		return err
	case 5: // Function{1: id, 2: name}
		var id uint64
		var name int64
		err := eachField(v, func(n protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
			if typ == protowire.VarintType && n == 1 {
				id = x
			} else if typ == protowire.VarintType && n == 2 {
				name = int64(x)
			}
			return nil
		})
		t.funcName[id] = name
		return err
	case 6:
		t.strs = append(t.strs, string(v))
	}
	return nil
}

// locationNames maps every location to its function names, innermost
// (inlined) first.
func (t *tables) locationNames() map[uint64][]string {
	out := make(map[uint64][]string, len(t.locLines))
	for id, fns := range t.locLines {
		names := make([]string, 0, len(fns))
		for _, f := range fns {
			if s := t.funcName[f]; int(s) < len(t.strs) {
				names = append(names, t.strs[s])
			}
		}
		out[id] = names
	}
	return out
}

// appendPacked appends a repeated varint field, packed or not.
func appendPacked(dst []uint64, t protowire.Type, v []byte, x uint64) []uint64 {
	if t == protowire.VarintType {
		return append(dst, x)
	}
	for len(v) > 0 {
		u, n := protowire.ConsumeVarint(v)
		if n < 0 {
			return dst
		}
		dst = append(dst, u)
		v = v[n:]
	}
	return dst
}

// eachField calls f for every field of a message: v for bytes fields, x
// for varints (and fixed-width values).
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.Fixed32Type:
			var y uint32
			y, n = protowire.ConsumeFixed32(b)
			x = uint64(y)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
