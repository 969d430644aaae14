package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/internalauth/internalauth"
)

// Load describes one fixed-concurrency, fixed-duration run against one
// URL. Requests are signed before the run starts, each with a fresh
// nonce, so signing costs the generator nothing while it measures.
type Load struct {
	Client      *http.Client
	URL         string
	Method      string
	Body        []byte
	KeyID       string
	Key         []byte
	Concurrency int
	Duration    time.Duration

	// Presigned is the number of requests signed ahead; the run ends
	// early, with Exhausted set, if the workers use them all.
	Presigned int

	// BeforeStart, when set, runs after signing and before the first
	// request, for samples taken around the measured period only.
	BeforeStart func() error
}

// LoadResult is what one run measured.
type LoadResult struct {
	Requests  int
	Failures  int // transport errors and unexpected statuses
	Statuses  map[int]int
	Elapsed   time.Duration
	Latencies []time.Duration // sorted
	Exhausted bool
}

// RequestsPerSecond returns the completed requests per second.
func (r LoadResult) RequestsPerSecond() float64 {
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Percentile returns the latency below which the fraction p of
// requests completed.
func (r LoadResult) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	index := int(p * float64(len(r.Latencies)-1))

	return r.Latencies[index]
}

// signedHeaders is one pre-signed request, as the headers Sign set.
type signedHeaders struct {
	header http.Header
}

// presign signs count requests and keeps their signature headers.
func (l *Load) presign(count int) ([]signedHeaders, error) {
	signed := make([]signedHeaders, count)
	for i := range signed {
		req, err := http.NewRequest(l.Method, l.URL, bytes.NewReader(l.Body))
		if err != nil {
			return nil, err
		}
		if err := internalauth.Sign(req, l.KeyID, l.Key, nil); err != nil {
			return nil, err
		}
		signed[i] = signedHeaders{header: req.Header}
	}

	return signed, nil
}

// Run signs the requests, then sends them from Concurrency workers for
// Duration. A response counts as success when its status is expected.
func (l *Load) Run(expected int) (LoadResult, error) {
	signed, err := l.presign(l.Presigned)
	if err != nil {
		return LoadResult{}, err
	}

	var (
		mu     sync.Mutex
		next   int
		result = LoadResult{Statuses: map[int]int{}}
		wg     sync.WaitGroup
	)
	take := func() (signedHeaders, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next == len(signed) {
			result.Exhausted = true
			return signedHeaders{}, false
		}
		next++

		return signed[next-1], true
	}

	if l.BeforeStart != nil {
		if err := l.BeforeStart(); err != nil {
			return LoadResult{}, err
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), l.Duration)
	defer cancel()
	start := time.Now()

	for w := 0; w < l.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			latencies := make([]time.Duration, 0, 4096)
			statuses := map[int]int{}
			failures := 0
			for ctx.Err() == nil {
				headers, ok := take()
				if !ok {
					break
				}
				status, elapsed, err := l.send(headers)
				if err != nil {
					failures++
					continue
				}
				statuses[status]++
				if status != expected {
					failures++
				}
				latencies = append(latencies, elapsed)
			}

			mu.Lock()
			result.Latencies = append(result.Latencies, latencies...)
			result.Failures += failures
			for status, n := range statuses {
				result.Statuses[status] += n
			}
			mu.Unlock()
		}()
	}
	wg.Wait()

	result.Elapsed = time.Since(start)
	result.Requests = len(result.Latencies)
	sort.Slice(result.Latencies, func(i, j int) bool { return result.Latencies[i] < result.Latencies[j] })

	return result, nil
}

// send sends one request with the pre-signed headers and reads the
// response to the end, so the connection is reused.
func (l *Load) send(signed signedHeaders) (int, time.Duration, error) {
	req, err := http.NewRequest(l.Method, l.URL, bytes.NewReader(l.Body))
	if err != nil {
		return 0, 0, err
	}
	for name, values := range signed.header {
		req.Header[name] = values
	}

	start := time.Now()
	resp, err := l.Client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	elapsed := time.Since(start)

	return resp.StatusCode, elapsed, err
}

// KeepAliveClient returns an HTTP/1.1 client that presents cert, trusts
// roots, connects every request to addr and keeps up to conns
// connections open between requests.
func KeepAliveClient(addr string, tlsConfig *tls.Config, conns int) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		TLSClientConfig: tlsConfig,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
	}

	return &http.Client{Transport: transport, Timeout: 30 * time.Second}
}
