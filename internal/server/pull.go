package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/logbucket/logbucket/internal/commitlog"
)

// bucketDoc is the JSON form of a bucket.
type bucketDoc struct {
	Name       string                    `json:"name"`
	Partitions []commitlog.PartitionInfo `json:"partitions"`
	Records    int64                     `json:"records"`
	Bytes      int64                     `json:"bytes"`
	LastWrite  *time.Time                `json:"last_write"`
	LastRead   *time.Time                `json:"last_read"`
	Groups     []commitlog.GroupInfo     `json:"groups"`
}

func toBucketDoc(info commitlog.BucketInfo) bucketDoc {
	d := bucketDoc{Name: info.Name, Partitions: info.Partitions, Records: info.Records, Bytes: info.Bytes,
		Groups: info.Groups}
	if d.Groups == nil {
		d.Groups = []commitlog.GroupInfo{}
	}
	if !info.LastWrite.IsZero() {
		d.LastWrite = &info.LastWrite
	}
	if !info.LastRead.IsZero() {
		d.LastRead = &info.LastRead
	}
	return d
}

// handleBuckets serves GET /api/v1/buckets.
func (s *Server) handleBuckets(w http.ResponseWriter, r *http.Request) {
	docs := []bucketDoc{}
	for _, name := range s.log.Buckets() {
		info, err := s.log.Bucket(r.Context(), name)
		if err != nil {
			continue // deleted meanwhile
		}
		docs = append(docs, toBucketDoc(info))
	}
	writeJSON(w, map[string]any{"buckets": docs})
}

// handleBucket serves GET /api/v1/buckets/{bucket}.
func (s *Server) handleBucket(w http.ResponseWriter, r *http.Request) {
	info, err := s.log.Bucket(r.Context(), r.PathValue("bucket"))
	if err != nil {
		s.writeLogError(w, err)
		return
	}
	writeJSON(w, toBucketDoc(info))
}

// handleRecords serves GET /api/v1/buckets/{bucket}/partitions/{p}/records.
func (s *Server) handleRecords(w http.ResponseWriter, r *http.Request) {
	part, err := strconv.Atoi(r.PathValue("partition"))
	if err != nil {
		writeError(w, errNoPartition.with(fmt.Sprintf("partition %q is not a number", r.PathValue("partition"))))
		return
	}
	q := r.URL.Query()
	offset, err := parseOffset(q.Get("offset"))
	if err != nil {
		writeError(w, errBadOffset.with(err.Error()))
		return
	}
	limit := 1000
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 10000 {
			writeError(w, errBadRequest.with(fmt.Sprintf("limit=%q must be a number from 1 to 10000", v)))
			return
		}
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 {
			writeError(w, errBadRequest.with(fmt.Sprintf("wait=%q is not a duration such as 5s", v)))
			return
		}
		wait = min(wait, time.Duration(s.cfg.HTTP.MaxPollWait))
	}
	res, err := s.log.Read(r.Context(), r.PathValue("bucket"), part, offset, limit, wait)
	if err != nil {
		s.writeLogError(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("X-Logbucket-Next-Offset", strconv.FormatInt(res.Next, 10))
	h.Set("X-Logbucket-Start-Offset", strconv.FormatInt(res.Start, 10))
	h.Set("X-Logbucket-End-Offset", strconv.FormatInt(res.End, 10))
	buf := make([]byte, 0, 64<<10)
	for i := range res.Records {
		buf = appendStoredRecord(buf, &res.Records[i])
		if len(buf) > 48<<10 {
			if _, err := w.Write(buf); err != nil {
				return
			}
			buf = buf[:0]
		}
	}
	_, _ = w.Write(buf)
}

// parseOffset reads an offset parameter: a number, earliest or latest.
func parseOffset(v string) (int64, error) {
	switch v {
	case "", "earliest":
		return commitlog.OffsetEarliest, nil
	case "latest":
		return commitlog.OffsetLatest, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("offset=%q must be a non-negative number, earliest or latest", v)
	}
	return n, nil
}

// handleCommit serves PUT /api/v1/buckets/{bucket}/groups/{group}/partitions/{p}.
func (s *Server) handleCommit(w http.ResponseWriter, r *http.Request) {
	part, err := strconv.Atoi(r.PathValue("partition"))
	if err != nil {
		writeError(w, errNoPartition.with(fmt.Sprintf("partition %q is not a number", r.PathValue("partition"))))
		return
	}
	var body struct {
		Offset *int64 `json:"offset"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	if err := dec.Decode(&body); err != nil || body.Offset == nil {
		writeError(w, errBadRequest.with(`the body must be JSON like {"offset":123}`))
		return
	}
	bucket, group := r.PathValue("bucket"), r.PathValue("group")
	if err := s.log.Commit(r.Context(), bucket, group, part, *body.Offset); err != nil {
		s.writeLogError(w, err)
		return
	}
	writeJSON(w, map[string]any{"bucket": bucket, "group": group, "partition": part, "offset": *body.Offset})
}

// groupDoc is the JSON form of a consumer group.
type groupDoc struct {
	Bucket     string         `json:"bucket"`
	Group      string         `json:"group"`
	Lag        int64          `json:"lag"`
	Partitions []groupPartDoc `json:"partitions"`
}

type groupPartDoc struct {
	Partition int    `json:"partition"`
	Offset    *int64 `json:"offset"`
	EndOffset int64  `json:"end_offset"`
	Lag       int64  `json:"lag"`
}

// handleGroup serves GET /api/v1/buckets/{bucket}/groups/{group}.
func (s *Server) handleGroup(w http.ResponseWriter, r *http.Request) {
	bucket, group := r.PathValue("bucket"), r.PathValue("group")
	if !commitlog.ValidGroupName(group) {
		writeError(w, errBadGroup.with(fmt.Sprintf("group name %q is invalid: use 1-128 letters, digits, '.', '_' and '-'", group)))
		return
	}
	info, err := s.log.Bucket(r.Context(), bucket)
	if err != nil {
		s.writeLogError(w, err)
		return
	}
	offs, err := s.log.Committed(r.Context(), bucket, group)
	if err != nil {
		s.writeLogError(w, err)
		return
	}
	doc := groupDoc{Bucket: bucket, Group: group, Partitions: []groupPartDoc{}}
	for _, p := range info.Partitions {
		gp := groupPartDoc{Partition: p.Partition, EndOffset: p.End, Lag: p.End}
		if o, ok := offs[p.Partition]; ok {
			gp.Offset = &o
			gp.Lag = p.End - o
		}
		doc.Lag += gp.Lag
		doc.Partitions = append(doc.Partitions, gp)
	}
	writeJSON(w, doc)
}

// writeLogError maps a commit-log error onto the catalogue.
func (s *Server) writeLogError(w http.ResponseWriter, err error) {
	var oor *commitlog.OffsetOutOfRangeError
	switch {
	case errors.As(err, &oor):
		e := errOutOfRange.with(oor.Error() + ": read from earliest_offset")
		e.Earliest, e.Latest = &oor.Earliest, &oor.Latest
		writeError(w, e)
	case errors.Is(err, commitlog.ErrBucketNotFound):
		writeError(w, errBucketNotFound.with(err.Error()))
	case errors.Is(err, commitlog.ErrNoPartition):
		writeError(w, errNoPartition.with(err.Error()))
	case errors.Is(err, commitlog.ErrBadGroup):
		writeError(w, errBadGroup.with(err.Error()))
	case errors.Is(err, commitlog.ErrBadOffset):
		writeError(w, errBadOffset.with(err.Error()))
	case errors.Is(err, commitlog.ErrReadOnly):
		writeError(w, errReadOnly.with(err.Error()))
	default:
		s.logger.Error("commit log request", "err", err)
		writeError(w, errInternal.with("the commit log failed to answer; see the server log"))
	}
}
