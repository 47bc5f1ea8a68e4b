// pion_peer: an ICE peer built on pion/ice v2 (Go, Debian's golang-github-pion-ice.v2-dev) that
// speaks ice-agent's `--signal stdio` protocol, like aioice_peer.py and libnice_peer.py.
//
// stdout: our description (SDP, CRLF, ending with an empty line, without candidates), then each
// host candidate as pion gathers it (`a=candidate:` + Candidate.Marshal()), then
// `a=end-of-candidates` once gathering is complete: real trickle ICE.
// stdin: the other side's description (up to an empty line), then trickled `a=candidate:` lines
// and `a=end-of-candidates` (pion has no notion of end-of-candidates; it is only logged).
//
// Once connected (agent.Dial as controlling, agent.Accept as controlled) it sends RTP packets
// (every --interval s, until --duration) over the selected pair with Conn.Write, counts the RTP
// packets it receives with Conn.Read, and writes a JSON summary (the keys of common.Summary) to
// --summary and to stderr.
//
// Host candidates on loopback only (IncludeLoopback, an interface filter for loopback interfaces
// and an IP filter for --addresses), UDP over IPv4 and IPv6, mDNS disabled: nothing multicasts.
// pion logs to stdout by default, which would corrupt the signaling: its logger writes to stderr.
//
// Exit status: 0 connected, 3 never connected, 1 error.
//
//	pion-peer --controlling|--controlled [--duration S] [--summary FILE]
//	          [--addresses 127.0.0.1,::1] [--log-level debug] [--interval S] [--check-interval-ms N]
//
// Built offline in GOPATH mode against Debian's sources: interop/build_pion.sh.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/logging"
)

// Set by build_pion.sh (-ldflags -X) from the installed Debian package's version.
var pionVersion = "2"

const crlf = "\r\n"

// ---------------------------------------------------------------- summary (common.Summary)

type summary struct {
	mu   sync.Mutex
	t0   time.Time
	data map[string]interface{}
}

func newSummary(impl, role string) *summary {
	return &summary{t0: time.Now(), data: map[string]interface{}{
		"impl": impl, "role": role, "connected": false, "connect_ms": nil, "connected_unix": nil,
		"sent": 0, "received": 0, "received_non_rtp": 0, "selected": nil, "error": nil,
	}}
}

func (s *summary) set(key string, v interface{}) {
	s.mu.Lock()
	s.data[key] = v
	s.mu.Unlock()
}

func (s *summary) get(key string) interface{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data[key]
}

func (s *summary) connected(selected interface{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data["connected"] == true {
		return
	}
	now := time.Now()
	s.data["connected"] = true
	s.data["connect_ms"] = math.Round(float64(now.Sub(s.t0).Microseconds())/100) / 10
	s.data["connected_unix"] = float64(now.UnixNano()) / 1e9
	s.data["selected"] = selected
}

// write: the file (atomically, through a .tmp) and a `summary: ` line on stderr. Once only.
func (s *summary) write(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data == nil {
		return
	}
	// A map: keys sorted, as json.dumps(sort_keys=True); "->" stays "->", not "-\u003e".
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s.data)
	text := bytes.TrimRight(buf.Bytes(), "\n")
	if path != "" {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, append(text, '\n'), 0o644); err == nil {
			_ = os.Rename(tmp, path)
		}
	}
	fmt.Fprintf(os.Stderr, "summary: %s\n", text)
	s.data = nil
}

// ---------------------------------------------------------------- signaling (common.py)

var stdoutMu sync.Mutex

// emit writes signaling to stdout at once (the driver cross-wires it to the other side).
func emit(text string) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	_, _ = os.Stdout.WriteString(text)
}

// description: the SDP ice-agent reads (common.description): session-level ICE credentials,
// one m= line, the candidates under it, ending with an empty line.
func description(ufrag, pwd string, candidates []string, port int) string {
	lines := []string{
		"v=0",
		fmt.Sprintf("o=- %d 1 IN IP4 127.0.0.1", 1+rand.Int63n(1<<31)),
		"s=-",
		"t=0 0",
		"a=ice-options:trickle",
		"a=ice-ufrag:" + ufrag,
		"a=ice-pwd:" + pwd,
		fmt.Sprintf("m=video %d RTP/AVP 96", port),
		"c=IN IP4 127.0.0.1",
		"a=mid:0",
		"a=rtcp-mux",
		"a=rtpmap:96 H264/90000",
	}
	lines = append(lines, candidates...)
	return strings.Join(lines, crlf) + crlf + crlf
}

// remoteDescription: what the peer needs from the other side's description (common.RemoteDescription).
type remoteDescription struct {
	ufrag, pwd      string
	lite            bool
	candidates      []string // the text after "a=candidate:"
	endOfCandidates bool
	sawMedia        bool
}

func (r *remoteDescription) feed(line string) {
	t := strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(line, "m="):
		r.sawMedia = true
	case strings.HasPrefix(line, "a=ice-ufrag:"):
		r.ufrag = strings.TrimSpace(line[len("a=ice-ufrag:"):])
	case strings.HasPrefix(line, "a=ice-pwd:"):
		r.pwd = strings.TrimSpace(line[len("a=ice-pwd:"):])
	case t == "a=ice-lite":
		r.lite = true
	case strings.HasPrefix(line, "a=candidate:"):
		r.candidates = append(r.candidates, strings.TrimSpace(line[len("a=candidate:"):]))
	case t == "a=end-of-candidates":
		r.endOfCandidates = true
	}
}

// rtpPacket: version 2, 12-byte header, PT 96, 100 bytes of payload (common.rtp_packet).
func rtpPacket(seq int, ssrc uint32) []byte {
	p := make([]byte, 12+100)
	p[0] = 0x80
	p[1] = 96
	binary.BigEndian.PutUint16(p[2:], uint16(seq))
	binary.BigEndian.PutUint32(p[4:], uint32(seq*3000))
	binary.BigEndian.PutUint32(p[8:], ssrc)
	for i := 12; i < len(p); i++ {
		p[i] = 0x55
	}
	return p
}

func isRTP(b []byte) bool { return len(b) >= 12 && b[0]>>6 == 2 }

// ---------------------------------------------------------------- the peer

type peer struct {
	role     string
	sum      *summary
	deadline time.Time
	lines    chan string // stdin lines; closed at EOF
	log      func(format string, a ...interface{})
}

func main() {
	controlling := flag.Bool("controlling", false, "controlling role (agent.Dial)")
	controlled := flag.Bool("controlled", false, "controlled role (agent.Accept)")
	duration := flag.Float64("duration", 6.0, "seconds from start to exit")
	interval := flag.Float64("interval", 0.02, "seconds between RTP packets")
	summaryPath := flag.String("summary", "", "file for the JSON summary")
	addresses := flag.String("addresses", "127.0.0.1,::1", "host candidate addresses (loopback only)")
	logLevel := flag.String("log-level", "warning", "trace|debug|info|warning|error")
	checkMs := flag.Int("check-interval-ms", 0, "pion's CheckInterval while checking (0: pion's default, 200 ms)")
	flag.Parse()
	if *controlling == *controlled {
		fmt.Fprintln(os.Stderr, "pion_peer: exactly one of --controlling and --controlled is required")
		os.Exit(2)
	}
	rand.Seed(time.Now().UnixNano())
	role := "controlled"
	if *controlling {
		role = "controlling"
	}
	p := &peer{role: role, sum: newSummary("pion-ice-"+pionVersion, role), lines: make(chan string, 64)}
	p.deadline = p.sum.t0.Add(time.Duration(*duration * float64(time.Second)))
	p.log = func(format string, a ...interface{}) {
		fmt.Fprintf(os.Stderr, "pion_peer(%s): %s\n", role, fmt.Sprintf(format, a...))
	}
	// SIGTERM/SIGINT from the driver: leave the summary behind, then go.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sigs
		p.sum.set("error", "terminated by "+s.String())
		p.sum.write(*summaryPath)
		os.Exit(1)
	}()
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			p.lines <- strings.TrimRight(sc.Text(), "\r\n")
		}
		close(p.lines)
	}()
	code := p.run(*controlling, *addresses, *logLevel, *checkMs, time.Duration(*interval*float64(time.Second)))
	p.sum.write(*summaryPath)
	os.Exit(code)
}

func pionLevel(s string) logging.LogLevel {
	switch strings.ToLower(s) {
	case "trace":
		return logging.LogLevelTrace
	case "debug":
		return logging.LogLevelDebug
	case "info":
		return logging.LogLevelInfo
	case "warning", "warn":
		return logging.LogLevelWarn
	default:
		return logging.LogLevelError
	}
}

func (p *peer) run(controlling bool, addresses, logLevel string, checkMs int, interval time.Duration) int {
	allowed := map[string]bool{}
	for _, a := range strings.Split(addresses, ",") {
		if ip := net.ParseIP(strings.TrimSpace(a)); ip != nil {
			allowed[ip.String()] = true
		}
	}
	lf := logging.NewDefaultLoggerFactory()
	lf.Writer = os.Stderr // pion's default is stdout: the signaling channel
	lf.DefaultLogLevel = pionLevel(logLevel)
	cfg := &ice.AgentConfig{
		NetworkTypes:     []ice.NetworkType{ice.NetworkTypeUDP4, ice.NetworkTypeUDP6},
		CandidateTypes:   []ice.CandidateType{ice.CandidateTypeHost},
		MulticastDNSMode: ice.MulticastDNSModeDisabled,
		IncludeLoopback:  true,
		InterfaceFilter: func(name string) bool {
			iface, err := net.InterfaceByName(name)
			return err == nil && iface.Flags&net.FlagLoopback != 0
		},
		IPFilter: func(ip net.IP) bool {
			return ip.IsLoopback() && allowed[ip.String()]
		},
		LoggerFactory: lf,
	}
	if checkMs > 0 {
		d := time.Duration(checkMs) * time.Millisecond
		cfg.CheckInterval = &d
	}
	agent, err := ice.NewAgent(cfg)
	if err != nil {
		p.sum.set("error", "NewAgent: "+err.Error())
		p.log("error: %v", err)
		return 1
	}
	defer func() { _ = agent.Close() }()

	if err = agent.OnConnectionStateChange(func(s ice.ConnectionState) {
		p.log("connection state %s", s)
	}); err != nil {
		p.sum.set("error", err.Error())
		return 1
	}
	if err = agent.OnSelectedCandidatePairChange(func(l, r ice.Candidate) {
		p.log("selected pair %s -> %s", hostPort(l), hostPort(r))
	}); err != nil {
		p.sum.set("error", err.Error())
		return 1
	}
	gathered := 0
	if err = agent.OnCandidate(func(c ice.Candidate) {
		if c == nil {
			emit("a=end-of-candidates" + crlf)
			p.log("gathering complete: %d candidates trickled", gathered)
			return
		}
		gathered++
		emit("a=candidate:" + c.Marshal() + crlf)
	}); err != nil {
		p.sum.set("error", err.Error())
		return 1
	}
	ufrag, pwd, err := agent.GetLocalUserCredentials()
	if err != nil {
		p.sum.set("error", err.Error())
		return 1
	}
	// The description first (no candidates, port 9 as RFC 8840 suggests), then trickle.
	emit(description(ufrag, pwd, nil, 9))
	p.log("description sent (ufrag %s); trickling candidates", ufrag)
	if err = agent.GatherCandidates(); err != nil {
		p.sum.set("error", "GatherCandidates: "+err.Error())
		p.log("error: %v", err)
		return 1
	}
	code, err := p.negotiate(agent, controlling, interval)
	if err != nil {
		p.sum.set("error", err.Error())
		p.log("error: %v", err)
	}
	return code
}

func hostPort(c ice.Candidate) string {
	if c == nil {
		return "?"
	}
	return net.JoinHostPort(c.Address(), fmt.Sprint(c.Port()))
}

func (p *peer) nextLine() (string, bool, error) {
	t := time.NewTimer(time.Until(p.deadline))
	defer t.Stop()
	select {
	case line, ok := <-p.lines:
		return line, ok, nil
	case <-t.C:
		return "", false, errors.New("no signaling from the other side")
	}
}

// addRemote adds one candidate (the text after `a=candidate:`); component 1, UDP only.
func (p *peer) addRemote(agent *ice.Agent, text string) {
	c, err := ice.UnmarshalCandidate(text)
	if err != nil {
		p.log("unparsable remote candidate %q: %v", text, err)
		return
	}
	if c.Component() != 1 || !c.NetworkType().IsUDP() {
		return
	}
	if err := agent.AddRemoteCandidate(c); err != nil {
		p.log("AddRemoteCandidate %q: %v", text, err)
	}
}

func (p *peer) negotiate(agent *ice.Agent, controlling bool, interval time.Duration) (int, error) {
	var remote remoteDescription
	// The description: up to the first empty line after some content.
	for {
		line, ok, err := p.nextLine()
		if err != nil {
			return 1, err
		}
		if !ok {
			return 1, errors.New("stdin closed before the remote description")
		}
		if line == "" {
			if remote.ufrag != "" || remote.sawMedia {
				break
			}
			continue
		}
		remote.feed(line)
	}
	if remote.ufrag == "" || remote.pwd == "" {
		return 1, errors.New("remote description without ice-ufrag/ice-pwd")
	}
	if remote.lite {
		p.log("remote is ice-lite (pion/ice v2 has no remote-lite mode; checks run as usual)")
	}
	for _, text := range remote.candidates {
		p.addRemote(agent, text)
	}
	p.log("remote description: ufrag %s, %d candidates%s", remote.ufrag, len(remote.candidates),
		map[bool]string{true: ", end-of-candidates", false: ""}[remote.endOfCandidates])

	ctx, cancel := context.WithDeadline(context.Background(), p.deadline)
	defer cancel()
	type result struct {
		conn *ice.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var conn *ice.Conn
		var err error
		if controlling {
			conn, err = agent.Dial(ctx, remote.ufrag, remote.pwd)
		} else {
			conn, err = agent.Accept(ctx, remote.ufrag, remote.pwd)
		}
		done <- result{conn, err}
	}()
	// Trickle (after end-of-candidates: drain quietly) while Dial/Accept runs and afterwards.
	go func() {
		for line := range p.lines {
			switch {
			case strings.TrimSpace(line) == "a=end-of-candidates":
				p.log("remote end-of-candidates")
			case strings.HasPrefix(line, "a=candidate:"):
				p.addRemote(agent, strings.TrimSpace(line[len("a=candidate:"):]))
			}
		}
	}()
	r := <-done
	if r.err != nil {
		msg := r.err.Error()
		if errors.Is(r.err, ice.ErrCanceledByCaller) {
			msg = "deadline"
		}
		p.sum.set("error", "not connected: "+msg)
		p.log("not connected: %s", msg)
		return 3, nil
	}
	var selected interface{}
	if pair, err := agent.GetSelectedCandidatePair(); err == nil && pair != nil {
		selected = hostPort(pair.Local) + " -> " + hostPort(pair.Remote)
	}
	p.sum.connected(selected)
	p.log("ICE completed in %v ms, selected %v", p.sum.get("connect_ms"), selected)
	p.stream(r.conn, interval)
	return 0, nil
}

func (p *peer) stream(conn *ice.Conn, interval time.Duration) {
	var mu sync.Mutex
	received, nonRTP := 0, 0
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			mu.Lock()
			if isRTP(buf[:n]) {
				received++
			} else {
				nonRTP++
			}
			mu.Unlock()
		}
	}()
	ssrc := rand.Uint32()
	seq := 0
	// Leave the last half second for in-flight packets.
	for time.Until(p.deadline) > 500*time.Millisecond {
		if _, err := conn.Write(rtpPacket(seq, ssrc)); err != nil {
			p.log("write: %v", err)
		} else {
			seq++
		}
		p.sum.set("sent", seq)
		time.Sleep(interval)
	}
	if rest := time.Until(p.deadline); rest > 0 {
		if rest > 500*time.Millisecond {
			rest = 500 * time.Millisecond
		}
		time.Sleep(rest)
	}
	mu.Lock()
	p.sum.set("received", received)
	p.sum.set("received_non_rtp", nonRTP)
	mu.Unlock()
	p.log("media: sent %d RTP packets, received %d (selected %v)", seq, received, p.sum.get("selected"))
}
