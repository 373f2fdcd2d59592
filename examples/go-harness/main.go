// SPDX-License-Identifier: Apache-2.0

// An external test harness for hmx in Go, built only from the .proto files (no hmx Go package):
// it creates two domains through the toolstack, sends numbered messages from one to the other
// through Argo, reads them back out of the receiver's ring the way a guest does (argo-spec §4.6),
// checks them, and prints one line per check.
//
//	HMX_ADMIN_TOKEN=... ./go-harness -listen 127.0.0.1:7070 -control 127.0.0.1:7071 -messages 300
//
// Exit code 0 only if every check passed (1: a check failed; 2: bad usage or a call failed).
// -plant drop|dup|swap damages what was received before the checks run, to show each check can
// fail (a checker that cannot fail is not a checker).
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	argov1 "hmx/gen/argov1"
	toolstackv1 "hmx/gen/toolstackv1"
)

// The Argo ABI this harness needs (argo-spec §2, §4): every size in bytes.
const (
	pageSize        = 4096
	firstGuestGfn   = 16 // gfn 0 is the device table, 1..15 the agent's own state
	domidAny        = 0x7ff4
	slotSize        = 16
	ringHeaderSize  = 64
	msgHeaderSize   = 16
	eagain          = -11
	ringAport       = 9
	ringPages       = 4
	ringLen         = ringPages*pageSize - ringHeaderSize - slotSize
	stagingGpa      = 64 * pageSize
	callTimeout     = 10 * time.Second
	maxMessageBytes = 17 << 20
)

type message struct {
	srcDomid uint32
	number   uint32
}

// A bearer token on every call: identity comes from the credential, never a request field.
type bearer string

func (b bearer) ctx() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+string(b)), cancel
}

func dial(address string) (*grpc.ClientConn, error) {
	target := address
	if strings.HasPrefix(address, "unix:") {
		target = "unix://" + strings.TrimPrefix(address, "unix:")
	}
	return grpc.Dial(target, grpc.WithInsecure(),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes)))
}

// guest is one domain's hypercalls, unary, one by one.
type guest struct {
	api   argov1.HypervisorClient
	token bearer
}

func (g guest) writeMemory(gpa uint64, data []byte) (int32, error) {
	ctx, cancel := g.token.ctx()
	defer cancel()
	r, err := g.api.WriteMemory(ctx, &argov1.WriteMemoryRequest{Gpa: gpa, Data: data})
	if err != nil {
		return 0, err
	}
	return r.Ret, nil
}

func (g guest) readMemory(gpa uint64, length uint32) ([]byte, error) {
	ctx, cancel := g.token.ctx()
	defer cancel()
	r, err := g.api.ReadMemory(ctx, &argov1.ReadMemoryRequest{Gpa: gpa, Length: length})
	if err != nil {
		return nil, err
	}
	if r.Ret < 0 {
		return nil, fmt.Errorf("read_memory(%#x, %d) returned %d", gpa, length, r.Ret)
	}
	return r.Data, nil
}

func check(what string, ret int32, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if ret < 0 {
		return fmt.Errorf("%s returned %d", what, ret)
	}
	return nil
}

func roundUpToSlot(n uint32) uint32 { return (n + slotSize - 1) &^ (slotSize - 1) }

// receive reads every complete message after rx_ptr, advances rx_ptr and notifies (NULL) so a
// sender parked on a full ring is woken: what a guest's receive path does.
func (g guest) receive() ([]message, error) {
	const gpa = firstGuestGfn * pageSize
	header, err := g.readMemory(gpa, 8)
	if err != nil {
		return nil, err
	}
	rx := roundUpToSlot(binary.LittleEndian.Uint32(header[0:]))
	tx := binary.LittleEndian.Uint32(header[4:])
	if rx >= ringLen {
		rx = 0 // sanitised as the hypervisor does: a stale value cannot make us loop
	}
	available := (tx + ringLen - rx) % ringLen
	if available < msgHeaderSize {
		return nil, nil
	}
	data := make([]byte, 0, available)
	for at, left := rx, available; left > 0; {
		n := left
		if at+n > ringLen {
			n = ringLen - at
		}
		chunk, err := g.readMemory(gpa+ringHeaderSize+uint64(at), n)
		if err != nil {
			return nil, err
		}
		data = append(data, chunk...)
		at, left = (at+n)%ringLen, left-n
	}
	var out []message
	at := uint32(0)
	for available-at >= msgHeaderSize {
		length := binary.LittleEndian.Uint32(data[at:])
		if length < msgHeaderSize+4 || length > available-at {
			break // incomplete or not ours: stop here, as the Linux driver does
		}
		out = append(out, message{
			srcDomid: uint32(binary.LittleEndian.Uint16(data[at+8:])),
			number:   binary.LittleEndian.Uint32(data[at+msgHeaderSize:]),
		})
		at += roundUpToSlot(length)
	}
	newRx := make([]byte, 4)
	binary.LittleEndian.PutUint32(newRx, (rx+at)%ringLen)
	ret, err := g.writeMemory(gpa, newRx)
	if err := check("write rx_ptr", ret, err); err != nil {
		return nil, err
	}
	ctx, cancel := g.token.ctx()
	defer cancel()
	n, err := g.api.Notify(ctx, &argov1.NotifyRequest{})
	if err != nil {
		return nil, err
	}
	return out, check("notify", n.Ret, nil)
}

type result struct {
	name    string
	failure string
}

// checkDelivery is the checker: every message once, in order, from the sender the hypervisor
// stamped.
func checkDelivery(got []message, expected int, sender uint32) []result {
	seen := map[uint32]int{}
	duplicated, reordered, foreign := 0, 0, 0
	for i, m := range got {
		seen[m.number]++
		if seen[m.number] == 2 {
			duplicated++
		}
		if i > 0 && m.number <= got[i-1].number {
			reordered++
		}
		if m.srcDomid != sender {
			foreign++
		}
	}
	missing := 0
	for k := 0; k < expected; k++ {
		if seen[uint32(k)] == 0 {
			missing++
		}
	}
	verdict := func(bad int, what string) string {
		if bad == 0 {
			return ""
		}
		return fmt.Sprintf("%d %s", bad, what)
	}
	return []result{
		{"no loss", verdict(missing, "missing")},
		{"no duplication", verdict(duplicated, "duplicated")},
		{"per-pair FIFO", verdict(reordered, "out of order")},
		{"source stamped by the hypervisor", verdict(foreign, "with another source")},
	}
}

func plant(got []message, how string) ([]message, error) {
	if len(got) < 2 {
		return got, nil
	}
	switch how {
	case "":
		return got, nil
	case "drop":
		return append(got[:1:1], got[2:]...), nil
	case "dup":
		return append(got[:2:2], got[1:]...), nil
	case "swap":
		got[0], got[1] = got[1], got[0]
		return got, nil
	}
	return nil, fmt.Errorf("-plant %q: expected drop, dup or swap", how)
}

func run(listen, control string, token bearer, count int, planted string) ([]result, error) {
	tconn, err := dial(control)
	if err != nil {
		return nil, err
	}
	defer tconn.Close()
	toolstack := toolstackv1.NewToolstackClient(tconn)
	suffix := fmt.Sprintf("%d", time.Now().UnixNano()%1_000_000)
	create := func(name, label string) (*toolstackv1.CreateDomainResponse, error) {
		ctx, cancel := token.ctx()
		defer cancel()
		return toolstack.CreateDomain(ctx, &toolstackv1.CreateDomainRequest{
			Name: name + suffix, Label: label, MemoryBytes: 16 << 20})
	}
	destroy := func(domid uint32) {
		ctx, cancel := token.ctx()
		defer cancel()
		_, _ = toolstack.DestroyDomain(ctx, &toolstackv1.DestroyDomainRequest{Domid: domid})
	}
	rxDom, err := create("go-rx-", "harness_rx_t")
	if err != nil {
		return nil, fmt.Errorf("create the receiver: %w", err)
	}
	defer destroy(rxDom.Domid)
	txDom, err := create("go-tx-", "harness_tx_t")
	if err != nil {
		return nil, fmt.Errorf("create the sender: %w", err)
	}
	defer destroy(txDom.Domid)

	gconn, err := dial(listen)
	if err != nil {
		return nil, err
	}
	defer gconn.Close()
	api := argov1.NewHypervisorClient(gconn)
	rx := guest{api, bearer(rxDom.Credential)}
	tx := guest{api, bearer(txDom.Credential)}

	ret, err := rx.writeMemory(firstGuestGfn*pageSize, make([]byte, ringHeaderSize))
	if err := check("zero the ring header", ret, err); err != nil {
		return nil, err
	}
	gfns := make([]uint64, ringPages)
	for i := range gfns {
		gfns[i] = uint64(firstGuestGfn + i)
	}
	ctx, cancel := rx.token.ctx()
	reg, err := rx.api.RegisterRing(ctx, &argov1.RegisterRingRequest{
		Aport: ringAport, PartnerId: txDom.Domid, Len: ringLen, Gfns: gfns})
	cancel()
	if err := check("register_ring", reg.GetRet(), err); err != nil {
		return nil, err
	}

	var got []message
	eagains := 0
	payload := make([]byte, 4)
	for k := 0; k < count; k++ {
		binary.LittleEndian.PutUint32(payload, uint32(k))
		ret, err := tx.writeMemory(stagingGpa, payload)
		if err := check("stage a message", ret, err); err != nil {
			return nil, err
		}
		for {
			ctx, cancel := tx.token.ctx()
			r, err := tx.api.Sendv(ctx, &argov1.SendvRequest{
				Src:  &argov1.ArgoAddr{Aport: 1, DomainId: domidAny},
				Dst:  &argov1.ArgoAddr{Aport: ringAport, DomainId: rxDom.Domid},
				Iovs: []*argov1.Iov{{Gpa: stagingGpa, Len: uint32(len(payload))}},
			})
			cancel()
			if err != nil {
				return nil, fmt.Errorf("sendv of message %d: %w", k, err)
			}
			if r.Ret != eagain {
				if err := check(fmt.Sprintf("sendv of message %d", k), r.Ret, nil); err != nil {
					return nil, err
				}
				break
			}
			// The ring is full: drain it, as the receiver would on its VIRQ.
			eagains++
			more, err := rx.receive()
			if err != nil {
				return nil, err
			}
			got = append(got, more...)
		}
	}
	more, err := rx.receive()
	if err != nil {
		return nil, err
	}
	got, err = plant(append(got, more...), planted)
	if err != nil {
		return nil, err
	}
	fmt.Printf("messages=%d received=%d eagain=%d\n", count, len(got), eagains)
	return checkDelivery(got, count, txDom.Domid), nil
}

func main() {
	listen := flag.String("listen", "", "the hypervisor's guest API address (host:port or unix:PATH)")
	control := flag.String("control", "", "the toolstack address (host:port)")
	count := flag.Int("messages", 300, "how many numbered messages to send")
	planted := flag.String("plant", "", "damage what was received before checking: drop, dup or swap")
	flag.Parse()
	token := os.Getenv("HMX_ADMIN_TOKEN")
	switch {
	case *listen == "" || *control == "":
		fmt.Fprintln(os.Stderr, "go-harness: -listen and -control are required")
		os.Exit(2)
	case *count < 2:
		fmt.Fprintf(os.Stderr, "go-harness: -messages %d: need at least 2\n", *count)
		os.Exit(2)
	case token == "":
		fmt.Fprintln(os.Stderr, "go-harness: set HMX_ADMIN_TOKEN to the toolstack's admin token")
		os.Exit(2)
	}
	results, err := run(*listen, *control, bearer(token), *count, *planted)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-harness:", err)
		os.Exit(2)
	}
	failed := false
	for _, r := range results {
		if r.failure == "" {
			fmt.Printf("ok   %s\n", r.name)
		} else {
			fmt.Printf("FAIL %s: %s\n", r.name, r.failure)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
