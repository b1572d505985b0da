// Command bench-lego is lego v5's side of acme-proto's benchmark: the child process of
// one Pebble run, as `acme-proto-bench __run SPEC` is for the Rust libraries (see
// bench/src/child.rs). It takes the run's spec (JSON) as its only argument, creates an
// account (untimed), then obtains `certificates` certificates, `concurrency` at a time,
// each with lego's `Certifier.Obtain` over http-01, and reports on stdout, one line
// each: `ready` once the account exists, `cert MICROS` or `fail MESSAGE` as each order
// ends, and last `result JSON` with its request counts, its CPU time over the timed part
// (getrusage(RUSAGE_SELF)) and its peak RSS (VmHWM).
//
// lego is used as its documentation has a certificate issued (`lego.NewConfig`,
// `lego.NewClient`, `Registration.Register`, `Challenge.SetHTTP01Provider`,
// `Certificate.Obtain`), with its default HTTP client's settings, trusting only Pebble's
// root. Its own `http01.ProviderServer` listens on the port for each challenge and closes
// it after, so it serves one order at a time; the provider here is one server on the port
// for every order in flight, answering as lego's does.
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/acme/api"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge"
	"github.com/go-acme/lego/v5/challenge/http01"
	"github.com/go-acme/lego/v5/lego"
	legolog "github.com/go-acme/lego/v5/log"
	"github.com/go-acme/lego/v5/registration"
)

// The contact every account is created with (bench/src/child.rs's CONTACT).
const contactEmail = "bench@example.org"

// Tuned polling: what the bench's `Polling::Tuned` asks of every library, polls from 5 ms.
const tunedPoll = 5 * time.Millisecond

// spec is bench/src/child.rs's Spec, as serde writes it.
type spec struct {
	Library      string `json:"library"`
	Polling      string `json:"polling"`
	Directory    string `json:"directory"`
	RootPEM      string `json:"root_pem"`
	HTTP01Port   uint16 `json:"http01_port"`
	Certificates int    `json:"certificates"`
	Concurrency  int    `json:"concurrency"`
	Names        int    `json:"names"`
	Label        string `json:"label"`
}

func (s *spec) namesOf(order int) []string {
	names := make([]string, s.Names)
	for i := range names {
		names[i] = fmt.Sprintf("n%d.o%d.%s.example.org", i, order, s.Label)
	}
	return names
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bench-lego SPEC_JSON (run by acme-proto's bench)")
		os.Exit(2)
	}
	var s spec
	if err := json.Unmarshal([]byte(os.Args[1]), &s); err != nil {
		fatal("the parent's spec: %v", err)
	}
	// lego logs every step at Info on stdout, which carries the reports here: warnings
	// and errors only, on stderr.
	legolog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr,
		&slog.HandlerOptions{Level: slog.LevelWarn})))
	fmt.Println(run(&s))
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench-lego: "+format+"\n", args...)
	os.Exit(1)
}

// run does the run and returns its `result` line.
func run(s *spec) string {
	if s.Polling != "Defaults" && s.Polling != "Tuned" {
		fatal("polling %q: lego runs with its defaults or tuned", s.Polling)
	}
	tuned := s.Polling == "Tuned"
	counts := newCounts()
	httpClient, err := newHTTPClient(s.RootPEM, counts)
	if err != nil {
		fatal("%v", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fatal("an account key: %v", err)
	}
	user := &user{key: key}
	config := lego.NewConfig(user)
	config.CADirURL = s.Directory
	config.HTTPClient = httpClient
	if tuned {
		// The order's poll after finalize runs every Timeout / 60 until Timeout: 5 ms
		// polls give up 300 ms after finalize.
		config.Certificate.Timeout = 60 * tunedPoll
	}
	responder, err := startResponder(s.HTTP01Port)
	if err != nil {
		fatal("%v", err)
	}
	defer responder.Close()
	ctx := context.Background()
	var certifier *certificate.Certifier
	if tuned {
		certifier, err = tunedCertifier(ctx, config, user, responder)
	} else {
		certifier, err = defaultCertifier(ctx, config, user, responder)
	}
	if err != nil {
		fatal("%v", err)
	}

	progress.line("ready")
	timed := startTimed(counts)
	results := inParallel(s, func(order int) error {
		resource, err := certifier.Obtain(ctx, certificate.ObtainRequest{
			Domains: s.namesOf(order),
			KeyType: certcrypto.EC256,
		})
		if err != nil {
			return err
		}
		if !strings.Contains(string(resource.Certificate), "BEGIN CERTIFICATE") {
			return errors.New("no certificate in the answer")
		}
		return nil
	})
	return "result " + timed.finish(counts, results)
}

// defaultCertifier is lego's client as its documentation has it: `lego.NewClient`, the
// http-01 provider set, the account registered.
func defaultCertifier(ctx context.Context, config *lego.Config, user *user, provider challenge.Provider) (*certificate.Certifier, error) {
	client, err := lego.NewClient(config)
	if err != nil {
		return nil, fmt.Errorf("a lego client on Pebble: %w", err)
	}
	if err := client.Challenge.SetHTTP01Provider(provider); err != nil {
		return nil, fmt.Errorf("the http-01 provider: %w", err)
	}
	account, err := client.Registration.Register(ctx,
		registration.RegisterOptions{TermsOfServiceAgreed: true})
	if err != nil {
		return nil, fmt.Errorf("a lego account on Pebble: %w", err)
	}
	user.registration = account
	return client.Certificate, nil
}

// tunedCertifier is lego's `Certifier` with the authorization polls tuned: lego polls an
// authorization from the challenge's Retry-After, or 5 s without one (Pebble sends
// none), ×1.5 with ±50 % jitter, each wait at most 10× the first; it has no setting for
// that. `certificate.NewCertifier` takes the resolver and `http01.NewChallenge` the
// validation function, so the resolver here solves each pending authorization with
// lego's http-01 challenge and lego's validation, the 5 s replaced by 5 ms. The parts
// are built as `lego.NewClient` builds them (a core, a registrar and a certifier), the
// account registered through that core, which keeps the nonce its answer brought.
func tunedCertifier(ctx context.Context, config *lego.Config, user *user, provider challenge.Provider) (*certificate.Certifier, error) {
	core, err := api.New(config.HTTPClient, config.UserAgent, config.CADirURL, "", user.key)
	if err != nil {
		return nil, fmt.Errorf("a lego core on Pebble: %w", err)
	}
	account, err := registration.NewRegistrar(core, user).Register(ctx,
		registration.RegisterOptions{TermsOfServiceAgreed: true})
	if err != nil {
		return nil, fmt.Errorf("a lego account on Pebble: %w", err)
	}
	user.registration = account
	solver := http01.NewChallenge(core, tunedValidate, provider)
	return certificate.NewCertifier(core, sequentialResolver{solver}, certificate.CertifierOptions{
		Timeout:             config.Certificate.Timeout,
		OverallRequestLimit: config.Certificate.OverallRequestLimit,
	}), nil
}

// sequentialResolver solves an order's authorizations one after the other, as lego's
// `resolver.Prober` does with http-01 (its "parallel" solvers run in a loop).
type sequentialResolver struct {
	solver *http01.Challenge
}

func (r sequentialResolver) Solve(ctx context.Context, authorizations []acme.Authorization) error {
	var failures []error
	for _, authz := range authorizations {
		if authz.Status == acme.StatusValid {
			continue
		}
		if err := r.solver.Solve(ctx, authz); err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", challenge.GetTargetedDomain(authz), err))
		}
	}
	return errors.Join(failures...)
}

// tunedValidate is lego v5.6.0's `resolver.validate` with its 5 s fallback poll at 5 ms;
// its give-up time stays lego's default (100 × 5 s).
func tunedValidate(ctx context.Context, core *api.Core, domain string, chlg acme.Challenge) error {
	chlng, err := core.Challenges.New(ctx, chlg.URL)
	if err != nil {
		return fmt.Errorf("failed to initiate the challenge: %w", err)
	}
	switch chlng.Status {
	case acme.StatusValid:
		return nil
	case acme.StatusPending, acme.StatusProcessing:
	case acme.StatusInvalid:
		return fmt.Errorf("invalid challenge: %w", chlng.Err())
	default:
		return fmt.Errorf("the server returned an unexpected challenge status: %s", chlng.Status)
	}
	retryAfter := chlng.RetryAfter
	if retryAfter == 0 {
		retryAfter = tunedPoll
	}
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = retryAfter
	bo.MaxInterval = 10 * retryAfter
	operation := func() (struct{}, error) {
		authz, err := core.Authorizations.Get(ctx, chlng.AuthorizationURL)
		if err != nil {
			return struct{}{}, backoff.Permanent(err)
		}
		switch authz.Status {
		case acme.StatusValid:
			return struct{}{}, nil
		case acme.StatusPending, acme.StatusProcessing:
			return struct{}{}, fmt.Errorf("the server didn't respond to our request (status=%s)", authz.Status)
		case acme.StatusInvalid:
			for _, c := range authz.Challenges {
				if c.Status == acme.StatusInvalid && c.Error != nil {
					return struct{}{}, backoff.Permanent(fmt.Errorf("invalid authorization: %w", c.Err()))
				}
			}
			return struct{}{}, backoff.Permanent(errors.New("invalid authorization"))
		default:
			return struct{}{}, backoff.Permanent(fmt.Errorf("the authorization state %s", authz.Status))
		}
	}
	_, err = backoff.Retry(ctx, operation,
		backoff.WithBackOff(bo),
		backoff.WithMaxElapsedTime(100*5*time.Second))
	return err
}

// user is lego's `registration.User`.
type user struct {
	key          crypto.Signer
	registration *acme.ExtendedAccount
}

func (u *user) GetEmail() string                       { return contactEmail }
func (u *user) GetRegistration() *acme.ExtendedAccount { return u.registration }
func (u *user) GetPrivateKey() crypto.Signer           { return u.key }

// newHTTPClient is lego's default HTTP client (`lego.NewConfig`'s: its timeouts, HTTP/1.1
// as its transport with a TLS config set gets), trusting only Pebble's root, with its
// requests counted.
func newHTTPClient(rootPEM string, counts *counts) (*http.Client, error) {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(rootPEM)) {
		return nil, errors.New("no certificate in Pebble's root PEM")
	}
	transport := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		TLSClientConfig:       &tls.Config{RootCAs: roots},
	}
	return &http.Client{
		Timeout:   2 * time.Minute,
		Transport: &countingTransport{next: transport, counts: counts},
	}, nil
}

// The endpoints, as bench/src/measure.rs names Pebble's paths (the same order).
var endpoints = []struct{ prefix, name string }{
	{"/dir", "directory"},
	{"/nonce-plz", "newNonce"},
	{"/sign-me-up", "newAccount"},
	{"/my-account/", "account"},
	{"/order-plz", "newOrder"},
	{"/authZ/", "authz"},
	{"/chalZ/", "challenge"},
	{"/finalize-order/", "finalize"},
	{"/my-order/", "order"},
	{"/certZ/", "certificate"},
}

const otherEndpoint = "other"

// counts is bench/src/measure.rs's Counts: requests by endpoint and badNonce answers.
type counts struct {
	byEndpoint map[string]*atomic.Uint64
	badNonce   atomic.Uint64
}

func newCounts() *counts {
	c := &counts{byEndpoint: map[string]*atomic.Uint64{otherEndpoint: {}}}
	for _, e := range endpoints {
		c.byEndpoint[e.name] = &atomic.Uint64{}
	}
	return c
}

func (c *counts) record(path string, status int, body []byte) {
	name := otherEndpoint
	for _, e := range endpoints {
		if strings.HasPrefix(path, e.prefix) {
			name = e.name
			break
		}
	}
	c.byEndpoint[name].Add(1)
	if status == http.StatusBadRequest && strings.Contains(string(body), "badNonce") {
		c.badNonce.Add(1)
	}
}

type tally struct {
	ByEndpoint map[string]uint64 `json:"by_endpoint"`
	BadNonce   uint64            `json:"bad_nonce"`
}

func (c *counts) snapshot() tally {
	t := tally{ByEndpoint: map[string]uint64{}, BadNonce: c.badNonce.Load()}
	for name, n := range c.byEndpoint {
		t.ByEndpoint[name] = n.Load()
	}
	return t
}

func (t tally) since(earlier tally) tally {
	d := tally{ByEndpoint: map[string]uint64{}, BadNonce: t.BadNonce - earlier.BadNonce}
	for name, n := range t.ByEndpoint {
		d.ByEndpoint[name] = n - earlier.ByEndpoint[name]
	}
	return d
}

// countingTransport counts each request and its answer (a 400's body is read to see
// whether it is a badNonce, and handed on as read).
type countingTransport struct {
	next   http.RoundTripper
	counts *counts
}

func (t *countingTransport) RoundTrip(request *http.Request) (*http.Response, error) {
	response, err := t.next.RoundTrip(request)
	if err != nil {
		return nil, err
	}
	var body []byte
	if response.StatusCode == http.StatusBadRequest {
		body, err = io.ReadAll(response.Body)
		response.Body.Close()
		if err != nil {
			return nil, err
		}
		response.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	t.counts.record(request.URL.Path, response.StatusCode, body)
	return response, nil
}

// responder is an http-01 provider for every order in flight: one server on the port
// Pebble validates, answering `GET /.well-known/acme-challenge/TOKEN` with the key
// authorization as lego's `http01.ProviderServer` does (text/plain, no keep-alive).
type responder struct {
	tokens   sync.Map
	server   *http.Server
	listener net.Listener
}

var _ challenge.Provider = (*responder)(nil)

func startResponder(port uint16) (*responder, error) {
	listener, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		return nil, fmt.Errorf("the http-01 port: %w", err)
	}
	r := &responder{listener: listener}
	mux := http.NewServeMux()
	mux.HandleFunc(http01.PathPrefix, func(w http.ResponseWriter, req *http.Request) {
		token := strings.TrimPrefix(req.URL.Path, http01.PathPrefix)
		keyAuth, ok := r.tokens.Load(token)
		if req.Method != http.MethodGet || !ok {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(keyAuth.(string)))
	})
	r.server = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	r.server.SetKeepAlivesEnabled(false)
	go func() { _ = r.server.Serve(listener) }()
	return r, nil
}

func (r *responder) Present(_ context.Context, _, token, keyAuth string) error {
	r.tokens.Store(token, keyAuth)
	return nil
}

func (r *responder) CleanUp(_ context.Context, _, token, _ string) error {
	r.tokens.Delete(token)
	return nil
}

func (r *responder) Close() {
	_ = r.server.Close()
}

// progress writes the report lines, one at a time.
var progress reporter

type reporter struct{ mu sync.Mutex }

func (p *reporter) line(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Println(text)
}

type outcome struct {
	latency time.Duration
	err     error
}

// inParallel runs `certificates` orders, `concurrency` at a time, each timed from its
// start to its certificate, reporting each as it ends.
func inParallel(s *spec, issue func(order int) error) []outcome {
	var next atomic.Int64
	workers := max(1, min(s.Concurrency, s.Certificates))
	results := make(chan outcome, s.Certificates)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				order := int(next.Add(1) - 1)
				if order >= s.Certificates {
					return
				}
				started := time.Now()
				err := issue(order)
				o := outcome{latency: time.Since(started), err: err}
				if err != nil {
					progress.line("fail " + strings.ReplaceAll(err.Error(), "\n", " "))
				} else {
					progress.line(fmt.Sprintf("cert %d", o.latency.Microseconds()))
				}
				results <- o
			}
		})
	}
	wg.Wait()
	close(results)
	var all []outcome
	for o := range results {
		all = append(all, o)
	}
	return all
}

// usage is bench/src/measure.rs's Usage: CPU time (user + system, every thread) and
// peak RSS (VmHWM) of this process.
type usage struct {
	cpu       time.Duration
	maxRSSKiB uint64
}

func usageNow() usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fatal("getrusage: %v", err)
	}
	return usage{
		cpu:       time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		maxRSSKiB: peakRSSKiB(),
	}
}

// peakRSSKiB is VmHWM in /proc/self/status (not ru_maxrss, which Linux carries over
// fork and exec from the parent).
func peakRSSKiB() uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// timed is the start of the timed part: counts, CPU time and the clock, taken together.
type timed struct {
	tally   tally
	usage   usage
	started time.Time
}

func startTimed(c *counts) timed {
	return timed{tally: c.snapshot(), usage: usageNow(), started: time.Now()}
}

func (t timed) finish(c *counts, results []outcome) string {
	wall := time.Since(t.started)
	now := usageNow()
	total := c.snapshot()
	latencies := []int64{}
	failures := []string{}
	for _, o := range results {
		if o.err != nil {
			failures = append(failures, o.err.Error())
		} else {
			latencies = append(latencies, o.latency.Microseconds())
		}
	}
	examples := failures[:min(3, len(failures))]
	report, err := json.Marshal(map[string]any{
		"latencies_us":     latencies,
		"failures":         len(failures),
		"failure_examples": examples,
		"timed":            total.since(t.tally),
		"total":            total,
		"wall_us":          wall.Microseconds(),
		"cpu_us":           max(0, (now.cpu - t.usage.cpu).Microseconds()),
		"max_rss_kib":      now.maxRSSKiB,
		"ready_rss_kib":    t.usage.maxRSSKiB,
	})
	if err != nil {
		fatal("the report: %v", err)
	}
	return string(report)
}
