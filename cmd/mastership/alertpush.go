package main

import (
	"context"
	"net/url"
	"sync"
	"time"

	"github.com/mastership/mastership/schedule/alerting"
	"github.com/mastership/mastership/schedule/metrics"
)

// alertPusher posts the daemon's alerts to Alertmanager (run
// --alertmanager): after each audit, and every resend interval between
// them. It runs on its own goroutine so that a slow Alertmanager never
// holds an audit: an audit only hands its result over, and a newer one
// replaces one not yet posted.
type alertPusher struct {
	audits chan alerting.Audit
	done   chan struct{}
	cancel context.CancelFunc
	once   sync.Once
}

func (a *app) startAlertPusher(ctx context.Context, urls []*url.URL, resend time.Duration, m *metrics.Metrics, generator string) *alertPusher {
	targets := make([]string, len(urls))
	for i, u := range urls {
		targets[i] = alerting.Target(u)
	}
	countError := m.AlertmanagerErrors(targets)
	client := alerting.NewClient(urls)
	ctx, cancel := context.WithCancel(ctx)
	p := &alertPusher{audits: make(chan alerting.Audit, 1), done: make(chan struct{}), cancel: cancel}
	a.log.Info("posting alerts to Alertmanager", "alertmanagers", targets, "resend", resend)
	go func() {
		defer close(p.done)
		var sent alerting.Sent
		tick := time.NewTicker(resend)
		defer tick.Stop()
		for {
			var post []alerting.Alert
			select {
			case <-ctx.Done():
				return
			case au := <-p.audits:
				au.GeneratorURL = generator
				desired, polled := alerting.Desired(au)
				post, sent = alerting.Plan(sent, desired, polled, time.Now(), resend)
			case <-tick.C:
				post, sent = alerting.Resend(sent, time.Now(), resend)
			}
			for target, err := range client.Post(ctx, post) {
				countError(target)
				a.log.Warn("alertmanager", "alertmanager", target, "alerts", len(post), "error", err)
			}
		}
	}()
	return p
}

// audited hands an audit's result to the pusher without waiting.
func (p *alertPusher) audited(au alerting.Audit) {
	select {
	case <-p.audits: // not posted yet: the newer audit replaces it
	default:
	}
	select {
	case p.audits <- au:
	default:
	}
}

func (p *alertPusher) stop() {
	p.once.Do(func() {
		p.cancel()
		<-p.done
	})
}
