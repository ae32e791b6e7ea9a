package erltest

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A controller is one hidden erl node that runs the tests' Evals, on any
// node of its name kind (short or long), so that an Eval costs a message,
// not the start of an erl VM. It reads one request per line on stdin and
// answers one line per request on stdout; requests run concurrently.
type controller struct {
	ready  chan struct{} // closed once it answers requests
	exited chan struct{} // closed once it has ended (or failed to start)

	// set by start, under mu
	cmd   *exec.Cmd
	stdin io.WriteCloser

	mu      sync.Mutex
	next    int
	pending map[int]chan controlAnswer
	err     error // why the controller ended, once it has
}

type controlAnswer struct {
	ok   bool
	text string
}

// controlSrc is the controller's program. A request is
// "Id NodeHex CookieHex ExprHex TimeoutMs"; the answer "Id ok Hex" (the
// result printed with ~p) or "Id error Hex". The expressions run on the
// target inside a fun, as `erl -eval` with rpc:call would, through erpc,
// which does not need the target's rex.
const controlSrc = `
Hex = fun(S) -> binary_to_list(binary:decode_hex(list_to_binary(S))) end,
Run = fun(Id, NodeH, CookieH, ExprH, TimeoutS) ->
    Reply = try
        Node = list_to_atom(Hex(NodeH)),
        erlang:set_cookie(Node, list_to_atom(Hex(CookieH))),
        {ok, Tokens, _} = erl_scan:string("fun() -> " ++ Hex(ExprH) ++ "\n end."),
        {ok, [Form]} = erl_parse:parse_exprs(Tokens),
        {value, Fun, _} = erl_eval:expr(Form, []),
        R = rpc:call(Node, erlang, apply, [Fun, []], list_to_integer(TimeoutS)),
        {"ok", io_lib:format("~p", [R])}
    catch C:E -> {"error", io_lib:format("~p:~p", [C, E])}
    end,
    {Tag, Text} = Reply,
    io:put_chars([Id, " ", Tag, " ", binary:encode_hex(unicode:characters_to_binary(Text)), "\n"])
end,
Loop = fun Loop() ->
    case io:get_line("") of
        eof -> halt();
        {error, _} -> halt();
        Line ->
            case string:lexemes(string:trim(Line), " ") of
                [Id, N, C, E, T] -> spawn(fun() -> Run(Id, N, C, E, T) end);
                _ -> ok
            end,
            Loop()
    end
end,
io:format("control ready~n"),
Loop().`

var (
	controlMu   sync.Mutex
	controllers = map[bool]*controller{} // by long names
)

// control returns the controller for nodes of that name kind, starting it
// at the first call (again if it died). The start is bounded by
// startTimeout, not by ctx: ctx bounds only the wait, so that one Eval
// that gives up does not cut the start short for the others.
func control(ctx context.Context, long bool) (*controller, error) {
	controlMu.Lock()
	c := controllers[long]
	if c != nil {
		select {
		case <-c.exited:
			c = nil
		default:
		}
	}
	if c == nil {
		c = &controller{exited: make(chan struct{}), ready: make(chan struct{}), pending: map[int]chan controlAnswer{}}
		controllers[long] = c
		go c.start(long)
	}
	controlMu.Unlock()
	select {
	case <-c.ready:
		return c, nil
	case <-c.exited:
		return nil, c.failure()
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the control node: %w", ctx.Err())
	}
}

// start starts the control node; ready or exited is closed when it is
// ready or has failed.
func (c *controller) start(long bool) {
	fail := func(err error) {
		c.fail(err)
		close(c.exited)
	}
	if _, err := StartEPMD(); err != nil {
		fail(err)
		return
	}
	nameFlag, host := "-sname", "localhost"
	if long {
		nameFlag, host = "-name", "127.0.0.1"
	}
	cmd := exec.Command("erl", nameFlag, UniqueName("ctl")+"@"+host, "-setcookie", RandomCookie(), "-noshell", "-hidden",
		"-start_epmd", "false", "-kernel", "inet_dist_use_interface", "{127,0,0,1}", "-eval", controlSrc)
	cmd.Env = append(os.Environ(), "ERL_EPMD_PORT="+strconv.Itoa(epmdPort), "ERL_EPMD_ADDRESS=127.0.0.1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL} // die with the test binary
	stdin, err := cmd.StdinPipe()
	if err != nil {
		fail(err)
		return
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fail(err)
		return
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		fail(fmt.Errorf("start the control node: %w", err))
		return
	}
	c.mu.Lock()
	c.cmd, c.stdin = cmd, stdin
	c.mu.Unlock()
	started := make(chan struct{})
	go c.read(stdout, started)
	go func() {
		err := cmd.Wait()
		c.fail(fmt.Errorf("the control node exited: %v", err))
		close(c.exited)
	}()
	select {
	case <-started:
		close(c.ready)
	case <-c.exited:
	case <-time.After(startTimeout):
		c.fail(fmt.Errorf("the control node did not start within %v", startTimeout))
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// failure is why the controller ended.
func (c *controller) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		return errors.New("the control node ended")
	}
	return c.err
}

// read routes the answers to the waiting Evals.
func (c *controller) read(r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "control ready" {
			close(ready)
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			continue // the node's own output
		}
		id, err := strconv.Atoi(f[0])
		text, herr := hex.DecodeString(f[2])
		if err != nil || herr != nil {
			continue
		}
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- controlAnswer{ok: f[1] == "ok", text: string(text)}
		}
	}
}

// fail ends every waiting Eval with err.
func (c *controller) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
}

// eval runs expr on node and returns the result printed with ~p.
func (c *controller) eval(ctx context.Context, node, cookie, expr string) (string, error) {
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	// The node's own limit comes after ctx's, which decides.
	timeout += time.Second
	ch := make(chan controlAnswer, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return "", c.err
	}
	c.next++
	id := c.next
	c.pending[id] = ch
	_, err := fmt.Fprintf(c.stdin, "%d %s %s %s %d\n", id, hex.EncodeToString([]byte(node)), hex.EncodeToString([]byte(cookie)),
		hex.EncodeToString([]byte(expr)), timeout.Milliseconds())
	c.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("eval on %s: %w", node, err)
	}
	select {
	case a, ok := <-ch:
		if !ok {
			return "", fmt.Errorf("eval on %s: %w", node, c.failure())
		}
		if !a.ok {
			return a.text, fmt.Errorf("eval on %s: %s", node, a.text)
		}
		return a.text, nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return "", fmt.Errorf("eval on %s: %w", node, ctx.Err())
	}
}

// stopControllers kills the control nodes (Cleanup).
func stopControllers() {
	controlMu.Lock()
	cs := controllers
	controllers = map[bool]*controller{}
	controlMu.Unlock()
	for _, c := range cs {
		select { // a start in progress ends either way, within startTimeout
		case <-c.ready:
		case <-c.exited:
			continue
		}
		c.mu.Lock()
		cmd, stdin := c.cmd, c.stdin
		c.mu.Unlock()
		_ = stdin.Close()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-c.exited
	}
}
