package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/dashboard"
	"github.com/mim-metrics/mim-metrics/receiver"
	"github.com/mim-metrics/mim-metrics/store"
)

// shutdownTimeout bounds the wait for requests in flight at SIGTERM.
const shutdownTimeout = 60 * time.Second

// jobInterval is how often the roll-ups, the retention and the ingest
// counts are brought up to date.
const jobInterval = time.Minute

func openStore(ctx context.Context, dsn string) (store.Store, error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open the database: %w", err)
	}
	return st, nil
}

func runServe(ctx context.Context, c *config, log *zap.Logger) error {
	st, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	var geo *receiver.GeoIP
	if c.geoipDB != "" {
		if geo, err = receiver.OpenGeoIP(c.geoipDB); err != nil {
			return err
		}
		defer func() { _ = geo.Close() }()
	}
	// One guard for both admin doors (the reports API, the dashboard).
	guard := receiver.NewAdminGuard(c.proxies, nil)
	rc, err := receiver.New(receiver.Config{
		Store:                   st,
		Properties:              c.props,
		AdminToken:              c.adminToken,
		AdminGuard:              guard,
		GeoIP:                   geo,
		TrustedProxies:          c.proxies,
		MaxClustersPerAddress:   c.maxClusters,
		MaxClustersPerAddressOf: c.clusterCap,
		MaxTracked:              c.limiterKeys,
		ClientLimit:             receiver.BurstLimit(c.clientBurst),
		AddressLimit:            receiver.BurstLimit(c.addressBurst),
		Logger:                  log,
	})
	if err != nil {
		return err
	}

	var certs *receiver.CertReloader
	if c.tlsCert != "" {
		if certs, err = receiver.NewCertReloader(c.tlsCert, c.tlsKey, log); err != nil {
			return err
		}
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for range hup {
				certs.Reload()
			}
		}()
	}

	// The dashboard is mounted at "/": the ingest patterns (Register) are
	// more specific and take precedence.
	dash := dashboard.New(st, dashboard.Options{MinClusters: c.minClusters, AdminToken: c.adminToken, Guard: guard, Logger: log,
		MaxStale: dashboard.DefaultMaxStale})
	ingest := http.NewServeMux()
	rc.Register(ingest)
	servers := []*http.Server{}
	listeners := []net.Listener{}
	addServer := func(addr string, h http.Handler, what string) error {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen on %s (--%s): %w", addr, what, err)
		}
		srv := receiver.NewServer(addr, h, receiver.DefaultTimeouts)
		if certs != nil {
			srv.TLSConfig = certs.TLSConfig()
			l = tls.NewListener(l, srv.TLSConfig)
			srv.Protocols = new(http.Protocols)
			srv.Protocols.SetHTTP1(true)
			srv.Protocols.SetHTTP2(true)
		}
		listeners = append(listeners, l)
		servers = append(servers, srv)
		log.Info("listening", zap.String("address", l.Addr().String()), zap.String("serves", what))
		return nil
	}
	if c.dashboardListen == "" {
		ingest.Handle("/", dash)
		err = addServer(c.listen, ingest, "listen")
	} else {
		ingest.Handle("/", http.NotFoundHandler())
		if err = addServer(c.listen, ingest, "listen"); err == nil {
			err = addServer(c.dashboardListen, dash, "dashboard-listen")
		}
	}
	if err != nil {
		for _, l := range listeners {
			_ = l.Close()
		}
		return err
	}

	errs := make(chan error, len(servers))
	for i, s := range servers {
		go func() {
			if err := s.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				errs <- err
			}
		}()
	}
	jobs := &receiver.Jobs{Store: st, Retention: c.retention, Flush: rc.FlushCounts, RollUpFailed: rc.CountRollUpFailure, Log: log}
	jobsCtx, stopJobs := context.WithCancel(context.Background())
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		jobs.RunAndLog(jobsCtx)
		t := time.NewTicker(jobInterval)
		defer t.Stop()
		jobs.Run(jobsCtx, t.C)
	}()
	log.Info("receiving", zap.Int("properties", len(c.props)), zap.String("retention", formatRetention(c.retention)))

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("stopping: finishing the requests in flight")
	case serveErr = <-errs:
		log.Error("server failed", zap.Error(serveErr))
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutCtx); err != nil {
			log.Warn("requests still in flight at the shutdown deadline", zap.Error(err))
		}
	}
	stopJobs()
	<-jobsDone
	if err := rc.FlushCounts(shutCtx); err != nil {
		log.Warn("the last ingest counts could not be written", zap.Error(err))
	}
	log.Info("stopped")
	if serveErr != nil {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return nil
}
