// Command demo runs one compose example on loopback: it makes a
// throwaway PKI, builds the internalauth command, starts the upstreams
// and Traefik with the plugin, walks through the documented verification
// printing each checkpoint and its result, and stops. With -keep it then
// keeps everything running and prints curl and internalauth sign
// commands to try by hand, until interrupted.
package main

import (
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/internalauth/internalauth/e2e/harness"
)

const keyID = "automation"

func main() {
	keep := flag.Bool("keep", false, "keep Traefik running after the checks, until interrupted")
	exampleName := flag.String("example", harness.SingleSite.Name, "example to run: single-site or split")
	flag.Parse()
	log.SetFlags(0)

	example := harness.SingleSite
	switch *exampleName {
	case harness.SingleSite.Name:
	case harness.Split.Name:
		example = harness.Split
	default:
		log.Fatalf("unknown example %q: use single-site or split", *exampleName)
	}

	os.Exit(run(example, *keep))
}

// run starts the demo and returns the exit code. Everything it starts
// stops before it returns.
func run(example harness.Example, keep bool) int {
	dir, err := os.MkdirTemp("", "internalauth-demo-")
	if err != nil {
		log.Print(err)
		return 1
	}
	defer os.RemoveAll(dir)

	demo, err := start(example, dir)
	if demo != nil {
		defer demo.stop()
	}
	if err != nil {
		log.Print(err)
		return 1
	}

	// Traefik runs in its own process group, so a Ctrl-C reaches only this
	// process, which must stop Traefik before it exits.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	checked := make(chan struct{})
	go func() {
		select {
		case <-signals:
			fmt.Println("\ninterrupted, stopping")
			demo.stop()
			_ = os.RemoveAll(dir)
			os.Exit(130)
		case <-checked:
		}
	}()

	failed := demo.checkAll()
	close(checked)
	if failed > 0 {
		fmt.Printf("\n%d checkpoint(s) failed; Traefik's log follows.\n%s\n", failed, demo.traefik.LogTail(40))
	} else {
		fmt.Println("\nall checkpoints passed")
	}

	if keep {
		demo.printRecipes()
		fmt.Println("\nrunning; press Ctrl-C to stop")
		<-signals
		fmt.Println("stopping")
	}
	if failed > 0 {
		return 1
	}

	return 0
}

// demo is a running example.
type demo struct {
	example  harness.Example
	dir      string
	pki      *harness.PKI
	key      []byte
	keyFile  string
	command  string // the internalauth binary
	api      *harness.Upstream
	portal   *harness.Upstream
	traefik  *harness.Traefik
	failures int
}

func start(example harness.Example, dir string) (*demo, error) {
	d := &demo{example: example, dir: dir, key: make([]byte, 32)}
	if _, err := rand.Read(d.key); err != nil {
		return nil, err
	}

	pki, err := harness.NewPKI(mkdir(dir, "pki"))
	if err != nil {
		return nil, err
	}
	d.pki = pki

	fmt.Println("building the internalauth command")
	if d.command, err = harness.BuildCommand(mkdir(dir, "bin")); err != nil {
		return nil, err
	}

	if d.api, err = harness.NewUpstream("api", nil); err != nil {
		return d, err
	}
	urls := map[string]string{"api": d.api.URL}
	if example == harness.SingleSite {
		if d.portal, err = harness.NewUpstream("portal", d.api); err != nil {
			return d, err
		}
		urls["portal"] = d.portal.URL
	}

	site, err := example.Site(dir, pki, harness.ExampleKey{ID: keyID, Value: d.key}, urls)
	if err != nil {
		return d, err
	}
	d.keyFile = filepath.Join(dir, example.Name, "secrets", "api_internal_hmac")

	opts, err := site.TraefikOptions()
	if err != nil {
		return d, err
	}
	version, _ := harness.TraefikVersion()
	fmt.Printf("starting Traefik %s with the plugin and the %s example in %s\n", version, example.Name, dir)
	d.traefik, err = harness.LaunchTraefik(mkdir(dir, "traefik"), opts)
	if err != nil {
		return d, err
	}
	fmt.Printf("websecure entry point: %s; %s resolves there\n\n", d.traefik.HTTPSAddr, harness.InternalHost)

	return d, nil
}

// stop ends Traefik and the upstreams.
func (d *demo) stop() {
	if d.traefik != nil {
		d.traefik.Stop()
	}
	if d.portal != nil {
		d.portal.Close()
	}
	if d.api != nil {
		d.api.Close()
	}
}

// report prints one checkpoint's result and counts failures.
func (d *demo) report(name string, err error) {
	if err != nil {
		d.failures++
		fmt.Printf("  FAIL  %s\n        %v\n", name, err)
		return
	}
	fmt.Printf("  ok    %s\n", name)
}

// targetURL returns the URL of the demo's API call on the dedicated host.
func (d *demo) targetURL() string {
	return "https://" + harness.InternalHost + ":" + d.traefik.Port() + target
}

func mkdir(parent, name string) string {
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}

	return dir
}

// readBody reads and closes a response body, returning at most 512
// bytes for messages.
func readBody(resp *http.Response) string {
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 512))

	return string(data)
}
