package metrics

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultAddr is where the daemon listens unless told otherwise: loopback
// only, so the metrics are not published to the network by accident.
const DefaultAddr = "127.0.0.1:9728"

// NotReadyMessage is the body of /readyz before the first audit.
const NotReadyMessage = "not ready: no audit completed yet"

// Handler serves /metrics (the registry, in the Prometheus text or
// OpenMetrics format the scraper asks for), /healthz (200 "ok" while the
// process serves, followed by one "store degraded: …" line per failing
// store operation, and one about the spool when it holds polls) and
// /readyz (200 "ok" once ready returns true and while the spool, if
// watched, takes polls; 503 otherwise). ready nil means m.Ready: an audit has been observed. Every
// other path is 404; methods other than GET and HEAD are 405.
func (m *Metrics) Handler(ready func() bool) http.Handler {
	if ready == nil {
		ready = m.Ready
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(m.reg,
		promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
			// A collector failing must not hide the rest of the metrics.
			ErrorHandling:       promhttp.ContinueOnError,
			MaxRequestsInFlight: 4,
			Timeout:             30 * time.Second,
		})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		// Still 200: the process is alive and polling, and a liveness
		// probe that failed on a store outage would restart the one
		// thing that keeps polling. The body names what is failing.
		body := "ok"
		if line := m.spoolHealth(); line != "" {
			body += "\n" + line
		}
		for _, f := range m.StoreFailures() {
			body += "\nstore degraded: " + f.String()
		}
		text(w, http.StatusOK, body)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			text(w, http.StatusServiceUnavailable, NotReadyMessage)
			return
		}
		// Ready while the spool takes polls, whatever the store does.
		if s, ok := m.spool.get(); ok && s.Full {
			text(w, http.StatusServiceUnavailable, SpoolFullMessage)
			return
		}
		text(w, http.StatusOK, "ok")
	})
	// Unregistered paths get the mux's 404, other methods its 405.
	return mux
}

func text(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, body)
}

// ListenConfig says where to serve.
type ListenConfig struct {
	// Addr is host:port; empty means DefaultAddr. A host that binds every
	// interface (empty, 0.0.0.0, ::) is refused unless AllowAllInterfaces.
	Addr string
	// AllowAllInterfaces permits an Addr that binds every interface.
	AllowAllInterfaces bool
	// TLS, when set, serves HTTPS with it instead of HTTP. It must hold
	// the certificate (Certificates or GetCertificate); a MinVersion
	// below TLS 1.2 is raised to it.
	TLS *tls.Config
}

// ErrAllInterfaces is returned by Listen for an address that binds every
// interface when AllowAllInterfaces is not set.
var ErrAllInterfaces = errors.New("address binds all interfaces")

// Server timeouts. ReadHeaderTimeout bounds slowloris-style clients; the
// others bound a stuck scraper.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	// shutdownGrace is how long in-flight requests get after ctx ends.
	shutdownGrace = 5 * time.Second
)

// Listen binds cfg.Addr and serves h on it until ctx ends, then shuts the
// server down gracefully (in-flight requests get a few seconds). The bind
// happens before Listen returns, so a bad or busy address is its error;
// the returned address is the one bound (the real port for ":0"). The
// channel receives the server's error, nil after a clean shutdown, and is
// then closed. log may be nil.
func Listen(ctx context.Context, cfg ListenConfig, h http.Handler, log *slog.Logger) (net.Addr, <-chan error, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	addr := cfg.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	all, err := bindsAllInterfaces(addr)
	if err != nil {
		return nil, nil, err
	}
	if all && !cfg.AllowAllInterfaces {
		return nil, nil, fmt.Errorf("listen %q: %w (give a specific address such as %s, or allow all interfaces explicitly)",
			addr, ErrAllInterfaces, DefaultAddr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen %q: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    1 << 16,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	serve := func() error { return srv.Serve(ln) }
	if cfg.TLS != nil {
		// TLS 1.0 and 1.1 are deprecated (RFC 8996): never offered,
		// whatever the caller's config says.
		srv.TLSConfig = cfg.TLS.Clone()
		srv.TLSConfig.MinVersion = max(srv.TLSConfig.MinVersion, tls.VersionTLS12)
		// The certificate is in the config: no files here.
		serve = func() error { return srv.ServeTLS(ln, "", "") }
	}
	log.Info("http listening", "addr", ln.Addr().String(), "tls", cfg.TLS != nil)

	errc := make(chan error, 1)
	served := make(chan error, 1)
	go func() { served <- serve() }()
	go func() {
		defer close(errc)
		var err error
		select {
		case err = <-served: // the server failed on its own
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			log.Error("http server stopped", "err", err)
			errc <- err
			return
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err = srv.Shutdown(sctx); err != nil {
			log.Warn("http shutdown", "err", err)
			srv.Close()
		}
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
		log.Info("http server stopped")
		errc <- err
	}()
	return ln.Addr(), errc, nil
}

// bindsAllInterfaces reports whether addr's host is empty or an
// unspecified address (0.0.0.0, ::, ::ffff:0.0.0.0). A host name is taken
// as specific.
func bindsAllInterfaces(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "" {
		return true, nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false, nil // a name: resolved and bound by net.Listen
	}
	return ip.Unmap().WithZone("").IsUnspecified(), nil
}
