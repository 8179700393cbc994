// Package schedule decides when and how devices are polled: one device's
// poll (dial, RPCs, decode) and a fleet audit over a bounded worker pool
// with a hard per-device deadline. Later: cron, retries, overlap rules.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos"
	"github.com/mastership/mastership/netconf"
)

// Poller polls one device: it opens a NETCONF session, runs the poll's
// RPCs, decodes what came back and classifies how it ended.
type Poller struct {
	// Now is the clock; it stamps polls. Required.
	Now func() time.Time
	// Timeout overrides every device's own timeout when > 0.
	Timeout time.Duration
	// MaxReplyBytes limits one reply; 0 means the netconf default.
	MaxReplyBytes int64
	Logger        *slog.Logger
}

// step is one RPC of a poll and where its decoded data goes.
type step struct {
	name   string // the RPC's element name, as operators know it
	body   string
	decode func(raw []byte, snap *devices.Snapshot) error
}

// pollSteps is the poll, in order: the RE table first, because without it
// nothing can be said about the alive set.
func pollSteps() []step {
	return []step{
		{"get-route-engine-information", junos.RPCRouteEngine, func(raw []byte, s *devices.Snapshot) error {
			res, err := junos.DecodeRouteEngines(raw)
			s.RouteEngines = res
			return err
		}},
		{"get-alarm-information", junos.RPCChassisAlarms, func(raw []byte, s *devices.Snapshot) error {
			al, err := junos.DecodeAlarms(raw, devices.AlarmChassis)
			s.Alarms = append(s.Alarms, al...)
			return err
		}},
		{"get-system-alarm-information", junos.RPCSystemAlarms, func(raw []byte, s *devices.Snapshot) error {
			al, err := junos.DecodeAlarms(raw, devices.AlarmSystem)
			s.Alarms = append(s.Alarms, al...)
			return err
		}},
		{"get-software-information", junos.RPCSoftware, func(raw []byte, s *devices.Snapshot) error {
			sw, err := junos.DecodeSoftware(raw)
			s.Software = sw
			return err
		}},
	}
}

// DeviceTimeout is the hard deadline of one device's whole poll.
func (p *Poller) DeviceTimeout(d devices.Device) time.Duration {
	switch {
	case p.Timeout > 0:
		return p.Timeout
	case d.Timeout > 0:
		return d.Timeout
	default:
		return 30 * time.Second
	}
}

// Poll polls one device and always returns a Poll: failures are results,
// classified in Outcome, never a Go error.
func (p *Poller) Poll(ctx context.Context, d devices.Device) devices.Poll {
	log := p.logger().With("device", d.Name)
	poll := devices.Poll{Device: d.Name, Host: d.Host, Site: d.Site, Started: p.Now().UTC()}
	ctx, cancel := context.WithTimeout(ctx, p.DeviceTimeout(d))
	defer cancel()

	finish := func(outcome devices.Outcome, err error) devices.Poll {
		poll.Finished = p.Now().UTC()
		poll.Outcome = outcome
		if err != nil {
			poll.ErrorKind = string(netconf.Classify(err))
			poll.Error = err.Error()
		}
		log.Debug("poll finished", "outcome", outcome, "duration", poll.Finished.Sub(poll.Started), "error", poll.Error)
		return poll
	}

	cfg, err := p.sessionConfig(d)
	if err != nil {
		// A device whose credentials cannot be read is an auth failure of
		// that device, not of the audit.
		poll.Finished = p.Now().UTC()
		poll.Outcome, poll.ErrorKind, poll.Error = devices.OutcomeAuth, string(devices.OutcomeAuth), err.Error()
		return poll
	}
	sess, err := netconf.Dial(ctx, cfg)
	if err != nil {
		return finish(netconf.Classify(err), err)
	}
	defer func() {
		// close-session gets its own short budget: the poll's deadline may
		// be spent, and a device that never answers it must not hold us.
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer ccancel()
		if err := sess.Close(cctx); err != nil {
			log.Debug("close session", "error", err)
		}
	}()

	snap := &devices.Snapshot{Device: d.Name}
	var failed []string
	var firstErr error
	succeeded := 0
	for _, st := range pollSteps() {
		reply, err := sess.RPC(ctx, st.body)
		if err == nil {
			err = st.decode(reply.Raw, snap)
			if err != nil {
				err = &decodeError{rpc: st.name, err: err}
			}
		}
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", st.name, err))
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", st.name, err)
			}
			if errors.Is(err, netconf.ErrSessionClosed) || ctx.Err() != nil {
				break // the session is gone; the remaining RPCs cannot run
			}
			continue
		}
		succeeded++
	}
	snap.PolledAt = p.Now().UTC()

	switch {
	case succeeded == 0:
		return finish(netconf.Classify(firstErr), firstErr)
	case len(failed) > 0:
		poll.Snapshot = snap
		poll.Finished = p.Now().UTC()
		poll.Outcome = devices.OutcomePartial
		poll.ErrorKind = string(netconf.Classify(firstErr))
		poll.Error = strings.Join(failed, "; ")
		return poll
	default:
		poll.Snapshot = snap
		return finish(devices.OutcomeOK, nil)
	}
}

// decodeError marks a reply that arrived but could not be understood.
type decodeError struct {
	rpc string
	err error
}

func (e *decodeError) Error() string { return "decode reply: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// sessionConfig turns an inventory device into netconf settings, reading
// its secrets from the environment or files named in the inventory.
func (p *Poller) sessionConfig(d devices.Device) (netconf.Config, error) {
	password, err := d.Auth.Password()
	if err != nil {
		return netconf.Config{}, fmt.Errorf("credentials of %s: %w", d.Name, err)
	}
	passphrase, err := d.Auth.Passphrase()
	if err != nil {
		return netconf.Config{}, fmt.Errorf("credentials of %s: %w", d.Name, err)
	}
	policy, err := netconf.ParseHostKeyPolicy(d.HostKeyPolicy)
	if err != nil {
		return netconf.Config{}, fmt.Errorf("device %s: %w", d.Name, err)
	}
	return netconf.Config{
		Host: d.Host,
		Port: d.Port,
		User: d.Username,
		Credentials: netconf.Credentials{
			KeyFile:    d.Auth.PrivateKey,
			Passphrase: passphrase,
			Agent:      d.Auth.Agent,
			Password:   password,
		},
		KnownHostsFile: d.KnownHosts,
		HostKeyPolicy:  policy,
		MaxReplyBytes:  p.MaxReplyBytes,
		Logger:         p.logger().With("device", d.Name),
	}, nil
}

func (p *Poller) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}
