// Command bench measures the plugin inside a real Traefik against the
// same route without it and with a compiled forwardAuth verifier. It
// alternates the routes in rounds, so a burst of load from elsewhere on
// the machine spreads over all of them, and prints the median of each
// figure over the rounds.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/internalauth/internalauth/e2e/bench"
	"github.com/internalauth/internalauth/e2e/harness"
)

type options struct {
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	presigned   int
}

func main() {
	var opts options
	flag.IntVar(&opts.rounds, "rounds", 5, "rounds; each measures every route once")
	flag.DurationVar(&opts.duration, "duration", 5*time.Second, "time each route is loaded per round")
	flag.DurationVar(&opts.warmup, "warmup", 2*time.Second, "unrecorded load per route before the first round")
	flag.IntVar(&opts.concurrency, "concurrency", 16, "requests in flight, each on its own kept-alive connection")
	flag.IntVar(&opts.presigned, "presigned", 60000, "requests signed before each run, the most it can send")
	flag.Parse()

	if err := run(opts); err != nil {
		log.Fatalf("bench: %v", err)
	}
}

// sample is one route's figures in one round.
type sample struct {
	rps, p50, p99   float64 // requests/s, latencies in microseconds
	traefikCPU      float64 // Traefik CPU microseconds per request
	verifierCPU     float64 // verifier CPU microseconds per request
	traefikCPUShare float64 // Traefik CPU seconds per wall second
}

func run(opts options) error {
	dir, err := os.MkdirTemp("", "internalauth-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	site, err := bench.StartSite(dir)
	if err != nil {
		// StartSite returns what it started before failing, to stop here.
		site.Close()

		return err
	}
	defer site.Close()

	client := site.Client(opts.concurrency)
	fmt.Printf("traefik pid %d, verifier pid %d, %d CPUs (GOMAXPROCS %d)\n",
		site.Traefik.PID(), site.Verifier.Process.Pid, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Printf("concurrency %d, %s per route per round, %d rounds, requests pre-signed before each run\n\n",
		opts.concurrency, opts.duration, opts.rounds)

	for _, route := range bench.Routes {
		if _, err := measure(site, client, route, opts, opts.warmup); err != nil {
			return fmt.Errorf("warm-up of %s: %w", route.Name, err)
		}
	}

	samples := map[string][]sample{}
	for round := 0; round < opts.rounds; round++ {
		// Rotate the starting route, so no route always runs first.
		for i := range bench.Routes {
			route := bench.Routes[(i+round)%len(bench.Routes)]
			s, err := measure(site, client, route, opts, opts.duration)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round+1, route.Name, err)
			}
			samples[route.Name] = append(samples[route.Name], s)
			fmt.Printf("round %d %-15s %8.0f req/s  p50 %7.0f us  p99 %7.0f us  traefik %6.1f us CPU/req  verifier %6.1f us CPU/req\n",
				round+1, route.Name, s.rps, s.p50, s.p99, s.traefikCPU, s.verifierCPU)
		}
	}

	report(samples)

	return nil
}

// measure loads route for duration and returns its figures, failing on
// any unexpected response.
func measure(site *bench.Site, client *http.Client, route bench.Route, opts options, duration time.Duration) (sample, error) {
	load := &bench.Load{
		Client:      client,
		URL:         site.URL(route),
		Method:      http.MethodGet,
		KeyID:       site.KeyID,
		Key:         site.Key,
		Concurrency: opts.concurrency,
		Duration:    duration,
		Presigned:   opts.presigned,
	}
	if route.Body > 0 {
		load.Method = http.MethodPost
		load.Body = bytes.Repeat([]byte("x"), route.Body)
	}

	// Signing happens inside Run before the clock starts, so the CPU
	// figures are taken around it, not around the signing.
	var before, after [2]harness.ProcessStats
	load.BeforeStart = func() error { return readStats(site, &before) }
	result, err := load.Run(http.StatusNoContent)
	if err != nil {
		return sample{}, err
	}
	if err := readStats(site, &after); err != nil {
		return sample{}, err
	}
	if result.Failures > 0 {
		return sample{}, fmt.Errorf("%d of %d requests failed; statuses %v", result.Failures, result.Requests, result.Statuses)
	}
	if result.Exhausted {
		fmt.Printf("note: %s used all %d pre-signed requests before %s\n", route.Name, opts.presigned, duration)
	}

	requests := float64(result.Requests)
	traefikCPU := after[0].CPU - before[0].CPU
	verifierCPU := after[1].CPU - before[1].CPU

	return sample{
		rps:             result.RequestsPerSecond(),
		p50:             float64(result.Percentile(0.50).Microseconds()),
		p99:             float64(result.Percentile(0.99).Microseconds()),
		traefikCPU:      float64(traefikCPU.Microseconds()) / requests,
		verifierCPU:     float64(verifierCPU.Microseconds()) / requests,
		traefikCPUShare: traefikCPU.Seconds() / result.Elapsed.Seconds(),
	}, nil
}

func readStats(site *bench.Site, stats *[2]harness.ProcessStats) error {
	var err error
	if stats[0], err = harness.ReadProcessStats(site.Traefik.PID()); err != nil {
		return err
	}
	stats[1], err = harness.ReadProcessStats(site.Verifier.Process.Pid)

	return err
}

// report prints the median of each figure per route as a Markdown
// table, and the throughput ratios.
func report(samples map[string][]sample) {
	medians := map[string]sample{}
	for name, list := range samples {
		medians[name] = sample{
			rps:             median(list, func(s sample) float64 { return s.rps }),
			p50:             median(list, func(s sample) float64 { return s.p50 }),
			p99:             median(list, func(s sample) float64 { return s.p99 }),
			traefikCPU:      median(list, func(s sample) float64 { return s.traefikCPU }),
			verifierCPU:     median(list, func(s sample) float64 { return s.verifierCPU }),
			traefikCPUShare: median(list, func(s sample) float64 { return s.traefikCPUShare }),
		}
	}

	fmt.Println()
	fmt.Println("| route | req/s | p50 (us) | p99 (us) | Traefik CPU (us/req) | verifier CPU (us/req) | Traefik CPU (s/s) |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, route := range bench.Routes {
		m := medians[route.Name]
		fmt.Printf("| %s | %.0f | %.0f | %.0f | %.1f | %.1f | %.2f |\n",
			route.Name, m.rps, m.p50, m.p99, m.traefikCPU, m.verifierCPU, m.traefikCPUShare)
	}

	bare, plugin, forward := medians["mtls-allowlist"], medians["plugin"], medians["forwardauth"]
	fmt.Println()
	fmt.Printf("throughput plugin / mtls-allowlist: %.2f (target >= 0.90)\n", plugin.rps/bare.rps)
	fmt.Printf("throughput plugin / forwardauth:    %.2f (target >= 1.5)\n", plugin.rps/forward.rps)
	fmt.Printf("medians of %d rounds; %s\n", len(samples["plugin"]), strings.TrimSpace(cpuModel()))
}

func median(list []sample, field func(sample) float64) float64 {
	values := make([]float64, len(list))
	for i, s := range list {
		values[i] = field(s)
	}
	sort.Float64s(values)
	n := len(values)
	if n%2 == 1 {
		return values[n/2]
	}

	return (values[n/2-1] + values[n/2]) / 2
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "CPU model unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return "CPU" + strings.TrimLeft(name, " \t")
		}
	}

	return "CPU model unknown"
}
