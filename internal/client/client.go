package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks to one logbucket server.
type Client struct {
	// Base is the server URL, e.g. http://127.0.0.1:9700.
	Base string
	// HTTP is the underlying client; nil means a client with sane timeouts.
	HTTP *http.Client
	// Token, when set, is sent as a bearer token.
	Token string
	// MaxRetries bounds the retries of one request (0 means 10).
	MaxRetries int
	// MinBackoff and MaxBackoff bound the wait between retries (defaults
	// 100ms and 10s).
	MinBackoff, MaxBackoff time.Duration
	// OnRetry, when set, is told about each retry (for progress output).
	OnRetry func(attempt int, wait time.Duration, err error)
}

// New returns a client for base with default settings.
func New(base string) *Client {
	return &Client{Base: strings.TrimRight(base, "/")}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 5 * time.Minute}
}

// APIError is an error answer of the server.
type APIError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("server answered %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("server answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Retryable reports whether repeating the same request may succeed.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500 || e.Status == 499 || e.Status == http.StatusRequestTimeout
}

// IngestOptions are the parameters of one ingest request.
type IngestOptions struct {
	Bucket       string
	StreamFields []string
	TimeField    string
	MsgField     string
	// Encoding of the body: "", "gzip" or "zstd" (the body is already
	// compressed by the caller).
	Encoding string
	// BatchID makes retries safe; required for retries to be exactly-once.
	BatchID string
}

// IngestResult is the server's answer to an ingest request.
type IngestResult struct {
	Accepted   int                         `json:"accepted"`
	Rejected   int                         `json:"rejected"`
	Errors     []LineError                 `json:"errors"`
	Partitions map[string]map[string]int64 `json:"partitions"`
	Duplicate  bool                        `json:"duplicate"`
}

// LineError is one rejected line of a batch (Line is 1-based in the batch).
type LineError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// Ingest posts an NDJSON body, retrying transient failures with the same
// batch id. It returns the first answer that is not retryable.
func (c *Client) Ingest(ctx context.Context, body []byte, o IngestOptions) (*IngestResult, error) {
	q := url.Values{}
	q.Set("bucket", o.Bucket)
	if len(o.StreamFields) > 0 {
		q.Set("stream_fields", strings.Join(o.StreamFields, ","))
	}
	if o.TimeField != "" {
		q.Set("time_field", o.TimeField)
	}
	if o.MsgField != "" {
		q.Set("msg_field", o.MsgField)
	}
	u := c.Base + "/api/v1/ingest?" + q.Encode()
	var res IngestResult
	err := c.retry(ctx, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("build request: %w", err)
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		if o.Encoding != "" {
			req.Header.Set("Content-Encoding", o.Encoding)
		}
		if o.BatchID != "" {
			req.Header.Set("X-Logbucket-Batch-Id", o.BatchID)
		}
		return c.do(req, &res)
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// do sends req and decodes a 2xx JSON answer into out.
func (c *Client) do(req *http.Request, out any) error {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}()
	if resp.StatusCode/100 != 2 {
		return decodeAPIError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		return fmt.Errorf("decode answer of %s: %w", req.URL.Path, err)
	}
	return nil
}

func decodeAPIError(resp *http.Response) error {
	e := &APIError{Status: resp.StatusCode}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			e.RetryAfter = time.Duration(n) * time.Second
		}
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	} else {
		e.Message = strings.TrimSpace(string(b))
	}
	return e
}

// retry runs fn until it succeeds, fails permanently, ctx ends, or the
// retries run out.
func (c *Client) retry(ctx context.Context, fn func() error) error {
	maxRetries := c.MaxRetries
	if maxRetries <= 0 {
		maxRetries = 10
	}
	minB, maxB := c.MinBackoff, c.MaxBackoff
	if minB <= 0 {
		minB = 100 * time.Millisecond
	}
	if maxB <= 0 {
		maxB = 10 * time.Second
	}
	backoff := minB
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		var apiErr *APIError
		wait := backoff + time.Duration(rand.Int64N(int64(backoff)/2+1))
		if errors.As(err, &apiErr) {
			if !apiErr.Retryable() {
				return err
			}
			if apiErr.RetryAfter > 0 {
				wait = apiErr.RetryAfter
			}
		} else if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt >= maxRetries {
			return fmt.Errorf("giving up after %d retries: %w", attempt, err)
		}
		if c.OnRetry != nil {
			c.OnRetry(attempt+1, wait, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(backoff*2, maxB)
	}
}
