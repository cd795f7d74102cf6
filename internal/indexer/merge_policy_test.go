package indexer

import (
	"fmt"
	"slices"
	"testing"
)

func policyPart(level int, minTime, bytes int64) *partRef {
	return &partRef{entry: partEntry{File: fmt.Sprintf("p-%d-%d", level, minTime), Day: 1, Level: level,
		MinTime: minTime, MaxTime: minTime + 9, Bytes: bytes}}
}

func pickedTimes(in []*partRef) []int64 {
	var out []int64
	for _, p := range in {
		out = append(out, p.entry.MinTime)
	}
	return out
}

func TestPickMergeTakesNeighboursInTime(t *testing.T) {
	// Twenty level-0 parts arriving out of order, one of them large: the
	// merge takes 16 parts adjacent in time, avoiding the large one when
	// it can, never the smallest 16 scattered over the day.
	var parts []*partRef
	for _, tm := range []int64{190, 10, 50, 170, 30, 110, 0, 70, 150, 130, 90, 20, 60, 180, 40, 100, 80, 140, 120, 160} {
		bytes := int64(100)
		if tm == 30 {
			bytes = 10_000
		}
		parts = append(parts, policyPart(0, tm, bytes))
	}
	got := pickedTimes(pickMerge(parts))
	want := []int64{40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190}
	if !slices.Equal(got, want) {
		t.Fatalf("picked %v, want %v", got, want)
	}
}

func TestPickMergeWaitsForFanIn(t *testing.T) {
	var parts []*partRef
	for i := range MergeFanIn - 1 {
		parts = append(parts, policyPart(0, int64(i*10), 100))
		parts = append(parts, policyPart(1, int64(i*10), 1000))
	}
	if got := pickMerge(parts); got != nil {
		t.Fatalf("picked %v with fewer than %d parts per level", pickedTimes(got), MergeFanIn)
	}
	parts = append(parts, policyPart(1, 1000, 1000))
	got := pickMerge(parts)
	if len(got) != MergeFanIn || got[0].entry.Level != 1 {
		t.Fatalf("picked %d parts of level %d, want the %d level-1 parts", len(got), got[0].entry.Level, MergeFanIn)
	}
	if !slices.IsSorted(pickedTimes(got)) {
		t.Fatalf("picked parts out of time order: %v", pickedTimes(got))
	}
}
