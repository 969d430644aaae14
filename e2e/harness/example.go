package harness

import (
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/internalauth/internalauth"
)

// Example is one compose example under examples/ and the variables and
// files an operator supplies to run it.
type Example struct {
	// Name is the example's directory under examples/.
	Name string

	// RoutedService is the compose service whose labels open the
	// dedicated route: the portal, or the API in the split topology.
	RoutedService string

	// PublicHost is the hostname on which /api/internal returns 403.
	PublicHost string
}

var (
	// SingleSite is the infra_manager topology: the route is on the
	// portal, which relays /api/* to the API.
	SingleSite = Example{Name: "single-site", RoutedService: "portal", PublicHost: PortalHost}

	// Split is the api_manager topology: the route is on the API, whose
	// standard host keeps mTLS with the standard internal PKI.
	Split = Example{Name: "split", RoutedService: "api", PublicHost: APIHost}
)

// ExampleKey is an HMAC key and the keyid the examples give it.
type ExampleKey struct {
	ID    string
	Value []byte
}

// Site copies the example into dir, adds the certificates of p and the
// key as the operator would, and returns the Site that docker compose
// and Traefik's docker provider would run. The allowlist admits
// 127.0.0.1/32 only, and the pinned certificate is p.Pinned. urls maps
// the compose services "portal" and "api" to their upstreams.
func (e Example) Site(dir string, p *PKI, key ExampleKey, urls map[string]string) (*Site, error) {
	sha256Pin, _ := internalauth.CertificatePins(p.Pinned.Cert)
	files := map[string]ProjectFile{
		"certs/apiinternal.crt":    {Source: p.InternalServer.CertFile},
		"certs/apiinternal.key":    {Source: p.InternalServer.KeyFile},
		"certs/apiinternal_ca.crt": {Source: p.DedicatedCA.CertFile},
		// Written the way `openssl rand -hex 32 > file` writes it.
		"secrets/api_internal_hmac": {Content: hex.EncodeToString(key.Value) + "\n"},
	}
	vars := map[string]string{
		"API_INTERNAL_URL":         InternalHost,
		"API_INTERNAL_RESTRICT_IP": "127.0.0.1/32",
		"API_INTERNAL_CLIENT_PINS": sha256Pin,
		"API_INTERNAL_HMAC_KEY_ID": key.ID,
	}

	switch e.Name {
	case SingleSite.Name:
		files["certs/portal.crt"] = ProjectFile{Source: p.PortalServer.CertFile}
		files["certs/portal.key"] = ProjectFile{Source: p.PortalServer.KeyFile}
		vars["PORTAL_URL"] = PortalHost
	case Split.Name:
		files["certs/api.crt"] = ProjectFile{Source: p.APIServer.CertFile}
		files["certs/api.key"] = ProjectFile{Source: p.APIServer.KeyFile}
		files["certs/internal_ca.crt"] = ProjectFile{Source: p.StandardCA.CertFile}
		vars["API_HOST"] = APIHost
	default:
		return nil, fmt.Errorf("unknown example %q", e.Name)
	}

	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	project, err := PrepareProject(filepath.Join(root, "examples", e.Name), dir, files)
	if err != nil {
		return nil, err
	}

	return SiteFromCompose(project, vars, urls)
}
