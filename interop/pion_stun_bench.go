// pion_stun_bench: times pion/stun (Go, Debian's golang-github-pion-stun-dev) on the message
// `ice-bench stun` times, so both codecs are measured on the same bytes in the same run.
//
// The message comes in as hex (--hex) with its short-term password (--password); the program
// refuses to time a message pion does not decode and verify. Stages, each after a warm-up of
// min(1000, N) ops, three rounds of N ops, the best round's time per op (as ice-bench's
// measure()) and the heap allocations of the three rounds as a total (runtime.MemStats.Mallocs):
//
//	parse                        m.Decode() over a reused Message (m.Raw set once)
//	fingerprint-check            stun.Fingerprint.Check(m)
//	integrity-check              stun.NewShortTermIntegrity(pwd).Check(m)
//	parse+integrity+fingerprint  the three in a row
//
// stdout, one line per stage (ice-bench parses it; "version" first):
//
//	version <pion/stun version> <go version>
//	<stage> <ns/op> <allocations> <ops>
//
// Exit status: 0 timed, 1 the message does not decode or verify, 2 bad arguments.
//
//	pion-stun-bench --hex HEX --password PWD [--iterations N]
//
// Built offline in GOPATH mode against Debian's sources: interop/build_pion_stun_bench.sh.
package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/pion/stun"
)

// Set by build_pion_stun_bench.sh (-ldflags -X) from the installed Debian package's version.
var pionStunVersion = "0"

func measure(name string, iterations int, body func()) {
	warm := iterations
	if warm > 1000 {
		warm = 1000
	}
	for i := 0; i < warm; i++ {
		body()
	}
	var before, after runtime.MemStats
	best := time.Duration(1<<63 - 1)
	var mallocs uint64
	const rounds = 3
	for r := 0; r < rounds; r++ {
		runtime.ReadMemStats(&before)
		t0 := time.Now()
		for i := 0; i < iterations; i++ {
			body()
		}
		elapsed := time.Since(t0)
		runtime.ReadMemStats(&after)
		mallocs += after.Mallocs - before.Mallocs
		if elapsed < best {
			best = elapsed
		}
	}
	fmt.Printf("%s %.1f %d %d\n", name, float64(best.Nanoseconds())/float64(iterations), mallocs, rounds*iterations)
}

func main() {
	hexText := flag.String("hex", "", "the STUN message, hex")
	password := flag.String("password", "", "short-term password (MESSAGE-INTEGRITY key)")
	iterations := flag.Int("iterations", 200000, "ops per round")
	flag.Parse()
	raw, err := hex.DecodeString(*hexText)
	if err != nil || len(raw) == 0 || *password == "" || *iterations <= 0 {
		fmt.Fprintln(os.Stderr, "usage: pion-stun-bench --hex HEX --password PWD [--iterations N]")
		os.Exit(2)
	}

	// Room after the message: MessageIntegrity.Check appends its HMAC to m.Raw[len(m.Raw):]
	// (pion's own zero-allocation path, as for a message read into a larger buffer).
	buf := make([]byte, len(raw), len(raw)+64)
	copy(buf, raw)
	m := new(stun.Message)
	m.Raw = buf
	integrity := stun.NewShortTermIntegrity(*password)
	if err := m.Decode(); err != nil {
		fmt.Fprintln(os.Stderr, "pion-stun-bench: pion does not decode the message:", err)
		os.Exit(1)
	}
	if err := stun.Fingerprint.Check(m); err != nil {
		fmt.Fprintln(os.Stderr, "pion-stun-bench: FINGERPRINT does not verify:", err)
		os.Exit(1)
	}
	if err := integrity.Check(m); err != nil {
		fmt.Fprintln(os.Stderr, "pion-stun-bench: MESSAGE-INTEGRITY does not verify:", err)
		os.Exit(1)
	}

	fmt.Printf("version %s %s\n", pionStunVersion, runtime.Version())
	failed := false
	sink := 0
	measure("parse", *iterations, func() {
		if m.Decode() == nil {
			sink += len(m.Attributes)
		}
	})
	measure("fingerprint-check", *iterations, func() {
		if stun.Fingerprint.Check(m) != nil {
			failed = true
		}
	})
	measure("integrity-check", *iterations, func() {
		if integrity.Check(m) != nil {
			failed = true
		}
	})
	measure("parse+integrity+fingerprint", *iterations, func() {
		if m.Decode() != nil || integrity.Check(m) != nil || stun.Fingerprint.Check(m) != nil {
			failed = true
		}
	})
	if failed || sink == 0 {
		fmt.Fprintln(os.Stderr, "pion-stun-bench: a check failed while timing")
		os.Exit(1)
	}
}
