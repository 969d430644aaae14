package internalauth

// Config is the middleware configuration. Traefik decodes it from labels,
// the file provider or a Kubernetes Middleware, with weak typing, on top of
// the values CreateConfig returns.
type Config struct {
	// Keys are the HMAC keys that may sign requests, looked up by keyid.
	Keys []KeyConfig `json:"keys,omitempty"`

	// Pins are the accepted client certificates: the SHA-256 of the DER
	// certificate in hex, or the SHA-256 of the SubjectPublicKeyInfo in
	// curl's sha256//<base64> form.
	Pins []string `json:"pins,omitempty"`

	// AllowUnverifiedChain accepts a client certificate that no TLS option
	// verified, as long as it is pinned. Off by default.
	AllowUnverifiedChain bool `json:"allowUnverifiedChain,omitempty"`

	// ServerName, when set, must equal both the TLS server name (SNI) and
	// the request's Host, without port.
	ServerName string `json:"serverName,omitempty"`

	// MaxAge is how old a signature's created time may be, as a Go
	// duration ("5m").
	MaxAge string `json:"maxAge,omitempty"`

	// ClockSkew is how far in the future a created time may be.
	ClockSkew string `json:"clockSkew,omitempty"`

	// RequireNonce rejects signatures without a nonce parameter.
	RequireNonce bool `json:"requireNonce,omitempty"`

	// Components are the covered components every signature must include.
	// Empty means DefaultComponents.
	Components []string `json:"components,omitempty"`

	// Label selects the signature to verify. Empty accepts a request that
	// carries exactly one signature, whatever its label.
	Label string `json:"label,omitempty"`

	// Tag, when set, must equal the signature's tag parameter.
	Tag string `json:"tag,omitempty"`

	// MaxBodyBytes is the largest body buffered to check Content-Digest.
	MaxBodyBytes int64 `json:"maxBodyBytes,omitempty"`

	// ReplayCacheSize is the number of nonces remembered at once.
	ReplayCacheSize int `json:"replayCacheSize,omitempty"`

	// KeyIDHeader and CertificateHeader name the request headers set for
	// the upstream after a request passes.
	KeyIDHeader       string `json:"keyIdHeader,omitempty"`
	CertificateHeader string `json:"certificateHeader,omitempty"`
}

// KeyConfig is one HMAC key. Exactly one of Secret, SecretFile and
// SecretEnv gives its value.
type KeyConfig struct {
	// ID is the keyid that signatures name.
	ID string `json:"id,omitempty"`

	// Secret is the key inline. Traefik's API and docker inspect show it,
	// so prefer SecretFile or SecretEnv.
	Secret string `json:"secret,omitempty"`

	// SecretFile is a path to a file holding the key, such as a Docker
	// secret.
	SecretFile string `json:"secretFile,omitempty"`

	// SecretEnv names an environment variable holding the key.
	SecretEnv string `json:"secretEnv,omitempty"`

	// Encoding is how the key is written: raw (default), base64 or hex.
	Encoding string `json:"encoding,omitempty"`

	// Pins, when set, restrict the key to these client certificates, in
	// the same forms as Config.Pins.
	Pins []string `json:"pins,omitempty"`
}

// Defaults applied by CreateConfig and New.
const (
	DefaultMaxAge            = "5m"
	DefaultClockSkew         = "30s"
	DefaultMaxBodyBytes      = 1 << 20
	DefaultReplayCacheSize   = 100000
	DefaultKeyIDHeader       = "X-Internalauth-Key-Id"
	DefaultCertificateHeader = "X-Internalauth-Client-Cert-Sha256"
)

// DefaultComponents are the covered components required when
// Config.Components is empty.
var DefaultComponents = []string{"@method", "@authority", "@path", "@query", "content-digest"}

// CreateConfig returns the default configuration.
func CreateConfig() *Config {
	return &Config{
		MaxAge:            DefaultMaxAge,
		ClockSkew:         DefaultClockSkew,
		RequireNonce:      true,
		MaxBodyBytes:      DefaultMaxBodyBytes,
		ReplayCacheSize:   DefaultReplayCacheSize,
		KeyIDHeader:       DefaultKeyIDHeader,
		CertificateHeader: DefaultCertificateHeader,
	}
}
