package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/traefik/traefik/v3/pkg/plugins"

	"github.com/internalauth/internalauth/e2e/harness"
)

// catalogTimeout is the time the plugin catalog gives a plugin to load
// and build its middleware from testData before it rejects the version.
const catalogTimeout = 10 * time.Second

// TestCatalogCheck repeats the plugin catalog's check of a version with
// Traefik v3.6.12's own plugin code, which runs yaegi v0.16.1 with the
// standard library's symbols. It imports the package, calls
// CreateConfig, decodes testData from .traefik.yml into the result and
// calls New. That must return a handler within catalogTimeout and
// without a panic.
func TestCatalogCheck(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := harness.LayOutPlugin(root, work); err != nil {
		t.Fatal(err)
	}
	// Traefik reads local plugins from ./plugins-local, relative to its
	// working directory.
	t.Chdir(work)

	manifest, err := plugins.ReadManifest("plugins-local", harness.PluginModule)
	if err != nil {
		t.Fatal(err)
	}
	if len(manifest.TestData) == 0 {
		t.Fatal(".traefik.yml has no testData")
	}

	nextCalled := false
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { nextCalled = true })

	type result struct {
		handler http.Handler
		err     error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		defer func() {
			if recovered := recover(); recovered != nil {
				done <- result{err: fmt.Errorf("panic: %v", recovered)}
			}
		}()
		handler, err := buildFromTestData(manifest.TestData, next)
		done <- result{handler: handler, err: err}
	}()

	var got result
	select {
	case got = <-done:
	case <-time.After(catalogTimeout):
		t.Fatalf("loading the plugin and calling New took more than %s", catalogTimeout)
	}
	t.Logf("import, CreateConfig, testData and New took %s", time.Since(start).Round(time.Millisecond))
	if got.err != nil {
		t.Fatalf("building the middleware from testData failed: %v", got.err)
	}

	// The handler runs interpreted too: a request without TLS is
	// rejected before next.
	recorder := httptest.NewRecorder()
	got.handler.ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, "/api/internal/health", nil))
	if recorder.Code != http.StatusForbidden {
		t.Errorf("status without TLS = %d, want 403 (body %q)", recorder.Code, recorder.Body.String())
	}
	if nextCalled {
		t.Error("next ran for a request without TLS")
	}
}

// buildFromTestData loads the plugin from ./plugins-local the way Traefik
// loads a local plugin, decodes testData into CreateConfig's result and
// calls New with next.
func buildFromTestData(testData map[string]any, next http.Handler) (http.Handler, error) {
	builder, err := plugins.NewBuilder(nil, nil, map[string]plugins.LocalDescriptor{
		harness.PluginAlias: {ModuleName: harness.PluginModule},
	})
	if err != nil {
		return nil, fmt.Errorf("load plugin: %w", err)
	}

	constructor, err := builder.Build(harness.PluginAlias, testData, "catalog@plugin")
	if err != nil {
		return nil, fmt.Errorf("decode testData: %w", err)
	}

	return constructor(context.Background(), next)
}
