package correlate

import (
	"slices"
	"strings"
	"testing"

	"github.com/mastership/mastership/devices"
)

// TestClassREDiskErrorsAreHardware: the master's disk failed and the
// backup took over. The old master's kernel logged the errors before it
// went. Line formats from FreeBSD (the Junos kernel):
//   - ata(4), sys/dev/ata/ata-queue.c ata_completed(): "ad0: FAILURE -
//     READ_DMA status=51<READY,DSC,ERROR> error=40<UNCORRECTABLE>
//     LBA=…" (device_printf "FAILURE - %s" with the status and error bit
//     names of ata_command_string and the "LBA=%ju" suffix);
//   - cam(4), sys/cam/cam_periph.c and ata_all.c/scsi_all.c: "(ada0:ata0:
//     0:0:0): READ_DMA48. ACB: 25 00 …", "(ada0:ata0:0:0:0): CAM status:
//     ATA Status Error", "(da0:umass-sim0:0:0:0): Retrying command",
//     "(da0:umass-sim0:0:0:0): SCSI sense: MEDIUM ERROR asc:11,0
//     (Unrecovered read error)", "(ada0:ata0:0:0:0): Error 5, Retries
//     exhausted" (the periph name:sim name unit:bus:target:lun prefix of
//     xpt_print_path);
//   - geom, sys/geom/geom_vfs.c g_vfs_done(): "g_vfs_done():ad0s1f[READ
//     (offset=…, length=…)]error = 5".
//
// With chassis redundancy failover on-disk-failure configured, the disk
// is named first.
func TestClassREDiskErrorsAreHardware(t *testing.T) {
	lines := []string{
		"Mar 14 10:00:01 re0-mx1 /kernel: ad0: FAILURE - READ_DMA status=51<READY,DSC,ERROR> error=40<UNCORRECTABLE> LBA=6173203",
		"Mar 14 10:00:02 re0-mx1 /kernel: (ada0:ata0:0:0:0): READ_DMA48. ACB: 25 00 80 3a 61 40 5e 00 00 00 08 00",
		"Mar 14 10:00:02 re0-mx1 /kernel: (ada0:ata0:0:0:0): CAM status: ATA Status Error",
		"Mar 14 10:00:03 re0-mx1 /kernel: (da0:umass-sim0:0:0:0): Retrying command",
		"Mar 14 10:00:03 re0-mx1 /kernel: (da0:umass-sim0:0:0:0): SCSI sense: MEDIUM ERROR asc:11,0 (Unrecovered read error)",
		"Mar 14 10:00:04 re0-mx1 /kernel: (ada0:ata0:0:0:0): Error 5, Retries exhausted",
		"Mar 14 10:00:05 re0-mx1 /kernel: g_vfs_done():ad0s1f[READ(offset=1411760128, length=16384)]error = 5",
	}
	events := classifyLines(t, "mx1", "", "messages", lines...)
	if len(events) != len(lines) {
		t.Fatalf("%d events of %d lines: %+v", len(events), len(lines), events)
	}
	for _, e := range events {
		if e.Kind != devices.EventDiskError || e.RE != "re0" {
			t.Errorf("%q: kind %s RE %q, want disk-error re0", e.Line.Raw, e.Kind, e.RE)
		}
	}
	// Boot messages of the same drivers are not errors.
	for _, raw := range []string{
		"Mar 14 10:00:01 re0-mx1 /kernel: ada0 at ahcich0 bus 0 scbus0 target 0 lun 0",
		"Mar 14 10:00:01 re0-mx1 /kernel: ada0: <StorFly VSFB25XI064G-JUN1 0730-000> ATA-8 SATA 2.x device",
		"Mar 14 10:00:01 re0-mx1 /kernel: da0: 3920MB (8028160 512 byte sectors: 255H 63S/T 499C)",
	} {
		if ev := classifyLines(t, "mx1", "", "messages", raw); len(ev) != 0 {
			t.Errorf("%q gave %+v", raw, ev)
		}
	}

	ts := []devices.Transition{
		{RE: "re0", Time: at("10:00:30"), From: "master", To: "gone", Sources: []string{"log:messages"}},
		{RE: "re1", Time: at("10:00:31"), From: "backup", To: "master", Sources: []string{"log:mastership"}},
		{RE: "re0", Time: at("10:06:00"), From: "gone", To: "backup", Sources: []string{"log:mastership"}},
	}
	// A core dump of the same moment: software evidence too.
	core := classifyLines(t, "mx1", "", "messages", "Mar 14 10:00:20 re0-mx1 /kernel: pid 1234 (rpd), uid 0: exited on signal 11 (core dumped)")
	// A PEM alarm outside the disk: named before the disk without the knob.
	pem := classifyLines(t, "mx1", "", "messages", "Mar 14 09:59:50 re0-mx1 craftd[1712]:  Minor alarm set, PEM 2 Not OK")
	all := slices.Concat(events, core, pem)
	for _, c := range []struct {
		name   string
		config *devices.RedundancyConfig
		first  string
	}{
		{"without failover on-disk-failure", nil, "PEM 2"},
		{"with failover on-disk-failure", &devices.RedundancyConfig{FailoverOnDiskFailure: true, Known: true}, "disk"},
	} {
		t.Run(c.name, func(t *testing.T) {
			found := Findings("mx1", History{Transitions: ts, Events: all, Config: c.config}, DefaultSettings())
			if len(found) != 1 {
				t.Fatalf("findings %+v", found)
			}
			f := found[0]
			if f.RE != "re0" || f.Cause != devices.CauseHardware || f.Severity != devices.SeverityCritical {
				t.Errorf("finding %s %s %s, want re0 hardware critical", f.RE, f.Cause, f.Severity)
			}
			if !slices.Contains(f.OtherCauses, devices.CauseSoftware) {
				t.Errorf("other causes %v, want software", f.OtherCauses)
			}
			_, named, _ := strings.Cut(f.Remedy, ": ")
			if !strings.HasPrefix(named, c.first) {
				t.Errorf("remedy %q: want %q named first", f.Remedy, c.first)
			}
			if !strings.Contains(f.Remedy, "ad0") {
				t.Errorf("remedy %q does not name the disk", f.Remedy)
			}
		})
	}
}
