// Package bench measures the plugin: interpreted by yaegi the way
// Traefik loads it, and inside a running Traefik under load.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/internalauth/internalauth/e2e/harness"
)

// Interpreted is the plugin package loaded into a yaegi interpreter,
// with the same options and standard-library symbols that Traefik
// v3.6.12 gives a local plugin.
type Interpreted struct {
	createConfig reflect.Value
	newHandler   reflect.Value
}

// LoadInterpreted lays out the plugin in root under gopath/src, as a
// local plugin, and imports it into a new interpreter by import path.
// The interpreter's output goes to stdout and stderr.
func LoadInterpreted(root, workDir string, stdout, stderr io.Writer) (*Interpreted, error) {
	if err := harness.LayOutPlugin(root, workDir); err != nil {
		return nil, err
	}

	i := interp.New(interp.Options{
		GoPath: workDir + "/plugins-local",
		Stdout: stdout,
		Stderr: stderr,
	})
	if err := i.Use(stdlib.Symbols); err != nil {
		return nil, fmt.Errorf("load standard library symbols: %w", err)
	}
	if _, err := i.Eval(`import "` + harness.PluginModule + `"`); err != nil {
		return nil, fmt.Errorf("import the plugin: %w", err)
	}

	createConfig, err := i.Eval("internalauth.CreateConfig")
	if err != nil {
		return nil, fmt.Errorf("evaluate CreateConfig: %w", err)
	}
	newHandler, err := i.Eval("internalauth.New")
	if err != nil {
		return nil, fmt.Errorf("evaluate New: %w", err)
	}

	return &Interpreted{createConfig: createConfig, newHandler: newHandler}, nil
}

// New builds a middleware the way Traefik does: CreateConfig, then the
// settings decoded on top of the defaults, then New. settings is JSON
// text whose keys are the configuration keys.
func (p *Interpreted) New(next http.Handler, settings []byte, name string) (http.Handler, error) {
	config := p.createConfig.Call(nil)[0]
	if err := json.Unmarshal(settings, config.Interface()); err != nil {
		return nil, fmt.Errorf("decode settings into the interpreted Config: %w", err)
	}

	results := p.newHandler.Call([]reflect.Value{
		reflect.ValueOf(context.Background()), reflect.ValueOf(next), config, reflect.ValueOf(name),
	})
	if err, _ := results[1].Interface().(error); err != nil {
		return nil, err
	}
	handler, ok := results[0].Interface().(http.Handler)
	if !ok {
		return nil, fmt.Errorf("New returned %T, not an http.Handler", results[0].Interface())
	}

	return handler, nil
}
