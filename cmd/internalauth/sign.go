package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/internalauth/internalauth"
)

// maxDataBytes bounds the request body read from a file or standard
// input. The middleware's own default limit is 1 MiB.
const maxDataBytes = 64 << 20

// signFields are the header fields sign sets itself, which -H may not set.
var signFields = []string{"Signature", "Signature-Input", "Content-Digest", "Host", "Content-Length"}

// signOptions are the parsed flags and arguments of internalauth sign.
type signOptions struct {
	method  string
	target  string
	data    dataSource
	headers []string

	caCert     string
	clientCert string
	clientKey  string
	resolve    []string
	maxTime    time.Duration

	keyID       string
	keyFile     string
	keyEnv      string
	keyStdin    bool
	keyEncoding string

	components string
	label      string
	tag        string
	expiresIn  time.Duration

	printHeaders bool
	verbose      bool
}

// dataSource is the origin of the request body: a literal value, a file,
// or standard input when path is "-".
type dataSource struct {
	set     bool
	literal string
	path    string
}

func runSign(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	opts, err := parseSignArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}

	if err != nil {
		fmt.Fprintf(stderr, "internalauth sign: %v\n", err)

		return exitUsage
	}

	key, err := readSigningKey(opts, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "internalauth sign: %v\n", err)

		return exitUsage
	}

	if opts.verbose {
		fmt.Fprintf(stderr, "* key %q: check value %s, compare with the middleware's start-up log line\n",
			opts.keyID, internalauth.KeyCheckValue(key))
	}

	req, err := buildSignedRequest(opts, key, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "internalauth sign: %v\n", err)

		return exitFailure
	}

	if opts.verbose {
		fmt.Fprintf(stderr, "* Signature-Input: %s\n", req.Header.Get("Signature-Input"))
	}

	if opts.printHeaders {
		for _, name := range []string{"Content-Digest", "Signature-Input", "Signature"} {
			if value := req.Header.Get(name); value != "" {
				fmt.Fprintf(stdout, "%s: %s\n", name, value)
			}
		}

		return exitOK
	}

	return sendSignedRequest(opts, key, req, stdout, stderr)
}

// buildSignedRequest reads the body and returns the signed request.
func buildSignedRequest(opts *signOptions, key []byte, stdin io.Reader) (*http.Request, error) {
	body, err := readData(opts.data, stdin)
	if err != nil {
		return nil, err
	}

	//nolint:gosec // G704: sign sends to the URL the operator gives.
	req, err := http.NewRequestWithContext(context.Background(), opts.method, opts.target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("invalid request: %w", err)
	}

	if len(body) == 0 {
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	}

	components := internalauth.DefaultComponents
	if opts.components != "" {
		components = splitList(opts.components)
	}

	for _, line := range opts.headers {
		name, value, _ := strings.Cut(line, ":")
		req.Header.Add(name, strings.TrimSpace(value))

		if opts.components == "" {
			components = appendMissing(components, strings.ToLower(name))
		}
	}

	signOpts := &internalauth.SignOptions{Label: opts.label, Components: components, Tag: opts.tag}

	if opts.expiresIn > 0 {
		signOpts.Created = time.Now()
		signOpts.Expires = signOpts.Created.Add(opts.expiresIn)
	}

	if err := internalauth.Sign(req, opts.keyID, key, signOpts); err != nil {
		return nil, fmt.Errorf("%w; see internalauth sign -h", err)
	}

	return req, nil
}

func parseSignArgs(args []string, stderr io.Writer) (*signOptions, error) {
	opts := &signOptions{}
	flags := newSignFlagSet(opts, stderr)

	var positional []string

	// Parse in rounds so flags may follow the URL, as with curl.
	for {
		if err := flags.Parse(args); err != nil {
			return nil, err
		}

		if flags.NArg() == 0 {
			break
		}

		positional = append(positional, flags.Arg(0))
		args = flags.Args()[1:]
	}

	switch len(positional) {
	case 0:
		return nil, errors.New("missing URL; give the full https URL, such as " +
			"https://apiinternal.example.com/api/internal/users/reset-otp")
	case 1:
		opts.target = positional[0]
	default:
		return nil, fmt.Errorf("%d URLs given (%s); sign sends exactly one request",
			len(positional), strings.Join(positional, " "))
	}

	return opts, checkSignOptions(opts)
}

func newSignFlagSet(opts *signOptions, stderr io.Writer) *flag.FlagSet {
	flags := flag.NewFlagSet("internalauth sign", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() { signUsage(flags) }

	methodHelp := "HTTP `method` of the request (default GET, or POST when a body is given)"
	flags.StringVar(&opts.method, "X", "", methodHelp)
	flags.StringVar(&opts.method, "request", "", methodHelp)

	dataHelp := "request body: a literal `value`, @FILE to read a file, or @- to read standard input; " +
		"sent byte for byte, like curl's --data-binary"
	flags.Var(dataFlag{&opts.data, false}, "d", dataHelp)
	flags.Var(dataFlag{&opts.data, false}, "data", dataHelp)
	flags.Var(dataFlag{&opts.data, false}, "data-binary", dataHelp)
	flags.Var(dataFlag{&opts.data, true}, "data-file", "request body read from `FILE`, or - for standard input")

	headerHelp := "extra header `\"Name: value\"` to send and cover by the signature; repeatable"
	flags.Var((*listFlag)(&opts.headers), "H", headerHelp)
	flags.Var((*listFlag)(&opts.headers), "header", headerHelp)

	flags.StringVar(&opts.caCert, "cacert", "", "PEM `file` of the CA that issued the server certificate "+
		"(default: the system's trusted CAs)")
	flags.StringVar(&opts.clientCert, "cert", "", "PEM `file` of the client certificate for mutual TLS; "+
		"may also hold the private key")
	flags.StringVar(&opts.clientKey, "key", "", "PEM `file` of the client certificate's private key "+
		"(as curl's --key; the HMAC key is set with --key-file, --key-env or --key-stdin)")
	flags.Var((*listFlag)(&opts.resolve), "resolve", "connect to `HOST:PORT:ADDRESS` instead of resolving HOST, "+
		"keeping HOST for TLS and the signature, as curl's --resolve; repeatable")
	flags.DurationVar(&opts.maxTime, "max-time", 30*time.Second, "maximum `duration` of the whole request")

	flags.StringVar(&opts.keyID, "key-id", "", "key `id` sent as the keyid parameter; must match keys[].id "+
		"in the middleware (required)")
	flags.StringVar(&opts.keyFile, "key-file", "", "read the HMAC key from `FILE`; one trailing line break is "+
		"removed, as the middleware does for secretFile, and a base64 or hex file also needs --key-encoding")
	flags.StringVar(&opts.keyEnv, "key-env", "", "read the HMAC key from the environment variable `NAME`")
	flags.BoolVar(&opts.keyStdin, "key-stdin", false, "read the HMAC key from standard input; one trailing "+
		"line break is removed")
	flags.StringVar(&opts.keyEncoding, "key-encoding", "raw", "how the HMAC key is written: raw, base64 or hex; "+
		"must match keys[].encoding in the middleware")

	flags.StringVar(&opts.components, "components", "", "covered components, separated by spaces or commas "+
		"(default \""+strings.Join(internalauth.DefaultComponents, " ")+"\" plus the -H header names)")
	flags.StringVar(&opts.label, "label", internalauth.DefaultLabel, "signature `label` in Signature-Input "+
		"and Signature")
	flags.StringVar(&opts.tag, "tag", "", "tag parameter, needed when the middleware sets tag")
	flags.DurationVar(&opts.expiresIn, "expires-in", 0, "add an expires parameter this `duration` after the "+
		"created time, such as 60s (default: no expires parameter)")

	flags.BoolVar(&opts.printHeaders, "print-headers", false, "print the Content-Digest, Signature-Input and "+
		"Signature headers instead of sending the request")
	flags.BoolVar(&opts.verbose, "v", false, "print the key check value, the signature parameters and the "+
		"response headers to standard error")

	return flags
}

func signUsage(flags *flag.FlagSet) {
	fmt.Fprint(flags.Output(), signHelp)
}

// signHelp lists each flag once with its aliases. A test checks that it
// names every flag the flag set defines.
const signHelp = `Usage: internalauth sign [flags] URL

Signs a request with an RFC 9421 hmac-sha256 signature and sends it over
mutual TLS, like curl. The response body goes to standard output, the
status line to standard error. With --print-headers it prints the
signature headers for curl -H instead, and sends nothing.

Request:
  -X, --request METHOD     HTTP method (default GET, or POST with a body)
  -d, --data, --data-binary VALUE
                           request body: a literal VALUE, @FILE for a file or
                           @- for standard input, sent byte for byte as with
                           curl's --data-binary
  --data-file FILE         request body from FILE, or - for standard input
  -H, --header "Name: value"
                           extra header to send, also covered by the
                           signature unless --components is given; repeatable

HMAC key (exactly one source; never on the command line, where ps shows it):
  --key-id ID              keyid parameter, the middleware's keys[].id (required)
  --key-file FILE          key from FILE, less one trailing line break, as
                           the middleware reads secretFile; a base64 or hex
                           file also needs --key-encoding
  --key-env NAME           key from the environment variable NAME
  --key-stdin              key from standard input, less one trailing line break
  --key-encoding ENCODING  raw, base64 or hex, as keys[].encoding (default raw)

Signature:
  --components LIST        covered components, separated by spaces or commas
                           (default "@method @authority @path @query
                           content-digest" plus the -H header names)
  --label LABEL            signature label (default sig1)
  --tag TAG                tag parameter, needed when the middleware sets tag
  --expires-in DURATION    add an expires parameter DURATION after created,
                           such as 60s (default none)

Connection:
  --cacert FILE            PEM CA certificates that verify the server
                           (default: the system's trusted CAs)
  --cert FILE              PEM client certificate, optionally with its key
  --key FILE               PEM private key of the client certificate (curl's
                           meaning: the HMAC key has its own flags above)
  --resolve HOST:PORT:ADDRESS
                           connect to ADDRESS for HOST:PORT, keeping HOST for
                           TLS and the signature, as curl does; repeatable
  --max-time DURATION      limit on the whole request (default 30s)

Output:
  --print-headers          print Content-Digest, Signature-Input and
                           Signature instead of sending
  -v                       print the key check value, the signature
                           parameters and the response headers to stderr

Example:
  internalauth sign --key-id ops-2026 --key-file hmac.key \
    --cacert ca.pem --cert client.crt --key client.key \
    -d @body.json https://apiinternal.example.com/api/internal/users/reset-otp

Exit codes: 0 the server responded with 2xx; 1 the request could not be
signed or sent, or the server responded with 3xx; 2 invalid flags or key;
3 the server responded with 4xx or 5xx (the rejection reason is printed to
stderr).
`

// checkSignOptions validates the combination of flags, naming the flag
// and the fix in each error.
func checkSignOptions(opts *signOptions) error {
	target, err := url.Parse(opts.target)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", opts.target, err)
	}

	if target.Scheme != "https" || target.Host == "" {
		return fmt.Errorf("invalid URL %q: use an https URL with a host name; "+
			"the middleware accepts requests over mutual TLS only", opts.target)
	}

	if target.Fragment != "" {
		return fmt.Errorf("invalid URL %q: remove the #fragment, which is never sent", opts.target)
	}

	if opts.method == "" {
		opts.method = http.MethodGet
		if opts.data.set {
			opts.method = http.MethodPost
		}
	}

	if !isToken(opts.method) {
		return fmt.Errorf("invalid method %q for -X: use a method name such as GET or POST", opts.method)
	}

	if opts.keyID == "" {
		return errors.New("missing --key-id; give the key id configured in the middleware's keys[].id")
	}

	if err := checkKeySource(opts); err != nil {
		return err
	}

	if err := checkHeaders(opts.headers); err != nil {
		return err
	}

	for _, entry := range opts.resolve {
		if _, _, _, err := parseResolve(entry); err != nil {
			return err
		}
	}

	if opts.clientKey != "" && opts.clientCert == "" {
		return errors.New("--key names a client private key but --cert is missing; give both, " +
			"or set the HMAC key with --key-file, --key-env or --key-stdin")
	}

	if opts.expiresIn < 0 {
		return fmt.Errorf("invalid --expires-in %s: give a positive duration such as 60s", opts.expiresIn)
	}

	return nil
}

func checkKeySource(opts *signOptions) error {
	sources := 0

	for _, set := range []bool{opts.keyFile != "", opts.keyEnv != "", opts.keyStdin} {
		if set {
			sources++
		}
	}

	if sources != 1 {
		return fmt.Errorf("give the HMAC key with exactly one of --key-file, --key-env or --key-stdin, found %d; "+
			"a key on the command line would show in ps", sources)
	}

	if opts.keyStdin && opts.data.set && opts.data.path == "-" {
		return errors.New("--key-stdin and a body from standard input cannot both read it; " +
			"give the body with -d @FILE or the key with --key-file")
	}

	switch strings.ToLower(opts.keyEncoding) {
	case "raw", "base64", "hex":
		return nil
	default:
		return fmt.Errorf("invalid --key-encoding %q: use raw, base64 or hex, as keys[].encoding in the middleware",
			opts.keyEncoding)
	}
}

func checkHeaders(headers []string) error {
	for _, line := range headers {
		name, _, found := strings.Cut(line, ":")
		if !found || !isToken(name) {
			return fmt.Errorf("invalid header %q for -H: write it as \"Name: value\"", line)
		}

		canonical := textproto.CanonicalMIMEHeaderKey(name)
		for _, reserved := range signFields {
			if canonical == reserved {
				return fmt.Errorf("header %s cannot be set with -H: sign computes it; "+
					"use --resolve to connect elsewhere while keeping the URL's host", canonical)
			}
		}
	}

	return nil
}

// readSigningKey reads and decodes the HMAC key from the one source
// given. A key file and standard input lose one trailing line break,
// the same rule the middleware applies to secretFile, so the two derive
// the same key from the same file.
func readSigningKey(opts *signOptions, stdin io.Reader) ([]byte, error) {
	var (
		text   []byte
		source string
	)

	switch {
	case opts.keyFile != "":
		source = "key file " + opts.keyFile

		content, err := readLimited(opts.keyFile, nil, 64<<10)
		if err != nil {
			return nil, fmt.Errorf("cannot read --key-file: %w", err)
		}

		text = trimLineBreak(content)
	case opts.keyEnv != "":
		source = "environment variable " + opts.keyEnv

		value, ok := os.LookupEnv(opts.keyEnv)
		if !ok || value == "" {
			return nil, fmt.Errorf("--key-env: environment variable %s is not set or empty; export it first", opts.keyEnv)
		}

		text = []byte(value)
	default:
		source = "standard input"

		content, err := readLimited("-", stdin, 64<<10)
		if err != nil {
			return nil, fmt.Errorf("cannot read --key-stdin: %w", err)
		}

		text = trimLineBreak(content)
	}

	if len(text) == 0 {
		return nil, fmt.Errorf("the HMAC key from %s is empty", source)
	}

	key, err := internalauth.DecodeKey(text, opts.keyEncoding)
	if err != nil {
		return nil, fmt.Errorf("the HMAC key from %s is %w; set --key-encoding to match how it is written",
			source, err)
	}

	if len(key) < internalauth.MinKeyBytes {
		return nil, fmt.Errorf("the HMAC key from %s is %d bytes after %s decoding, the middleware requires at least %d; "+
			"check --key-encoding", source, len(key), opts.keyEncoding, internalauth.MinKeyBytes)
	}

	return key, nil
}

func trimLineBreak(content []byte) []byte {
	content = bytes.TrimSuffix(content, []byte("\n"))

	return bytes.TrimSuffix(content, []byte("\r"))
}

// readData returns the request body from its source.
func readData(data dataSource, stdin io.Reader) ([]byte, error) {
	switch {
	case !data.set:
		return nil, nil
	case data.path == "":
		return []byte(data.literal), nil
	default:
		body, err := readLimited(data.path, stdin, maxDataBytes)
		if err != nil {
			return nil, fmt.Errorf("cannot read the request body: %w", err)
		}

		return body, nil
	}
}

// readLimited reads a file, or stdin when path is "-", up to limit bytes.
func readLimited(path string, stdin io.Reader, limit int64) ([]byte, error) {
	reader := stdin

	if path != "-" {
		file, err := os.Open(path) //nolint:gosec // G703: the operator names the file.
		if err != nil {
			return nil, err
		}
		defer file.Close()

		reader = file
	}

	content, err := io.ReadAll(io.LimitReader(reader, limit+1))
	if err != nil {
		return nil, err
	}

	if int64(len(content)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}

	return content, nil
}

// dataFlag sets a dataSource from -d (curl's @FILE syntax) or
// --data-file (always a path).
type dataFlag struct {
	source   *dataSource
	pathOnly bool
}

func (f dataFlag) String() string { return "" }

func (f dataFlag) Set(value string) error {
	if f.source.set {
		return errors.New("the body is given twice; use one of -d, --data, --data-binary or --data-file")
	}

	f.source.set = true

	switch {
	case f.pathOnly:
		f.source.path = value
	case strings.HasPrefix(value, "@"):
		f.source.path = value[1:]
	default:
		f.source.literal = value
	}

	if (f.pathOnly || strings.HasPrefix(value, "@")) && f.source.path == "" {
		return errors.New("missing file name after @; write @body.json, or @- for standard input")
	}

	return nil
}

// listFlag collects the values of a repeated flag.
type listFlag []string

func (f *listFlag) String() string { return strings.Join(*f, ", ") }

func (f *listFlag) Set(value string) error {
	*f = append(*f, value)

	return nil
}

// splitList splits a list separated by spaces or commas.
func splitList(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

func appendMissing(list []string, item string) []string {
	for _, existing := range list {
		if existing == item {
			return list
		}
	}

	return append(append([]string(nil), list...), item)
}

// isToken reports whether s is an HTTP token, the syntax of methods and
// field names.
func isToken(s string) bool {
	if s == "" {
		return false
	}

	for _, r := range s {
		if r > 0x7e || r <= 0x20 || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}

	return true
}
