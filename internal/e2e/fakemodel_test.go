package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeModel is an OpenAI-compatible chat completions endpoint on
// 127.0.0.1 that plays a scripted agent: for each command in commands it
// answers with a call to OpenClaw's exec tool, one per tool result received
// since the last prompt; then it answers with the text final returns for
// the tool results. It decides from the whole message list, as a model
// does, so the messages OpenClaw adds after a tool result (context notes,
// completion notices as user messages) do not restart the script. It
// answers streaming (SSE) and non-streaming requests alike.
type fakeModel struct {
	t        *testing.T
	prompt   string   // marks the user messages that start a turn
	commands []string // exec commands, in order
	final    func(toolResults []string) string

	mu       sync.Mutex
	requests []chatRequest
	srv      *http.Server
	baseURL  string // http://127.0.0.1:PORT/v1
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

// text is the message content as text: a string, or the text parts of an
// array of parts.
func (m chatMessage) text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	json.Unmarshal(m.Content, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

type chatRequest struct {
	Model    string        `json:"model"`
	Stream   bool          `json:"stream"`
	Messages []chatMessage `json:"messages"`
	Tools    []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

// startFakeModel serves the script until the test ends.
func startFakeModel(t *testing.T, prompt string, commands []string, final func(toolResults []string) string) *fakeModel {
	t.Helper()
	m := &fakeModel{t: t, prompt: prompt, commands: commands, final: final}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.baseURL = "http://" + l.Addr().String() + "/v1"
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", m.complete)
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"object":"list","data":[{"id":"scripted","object":"model","owned_by":"clawwarden-test"}]}`)
	})
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go m.srv.Serve(l)
	t.Cleanup(func() { m.srv.Close() })
	return m
}

// toolResults returns the tool results since the last user message that
// carries the prompt.
func (m *fakeModel) toolResults(msgs []chatMessage) []string {
	start := 0
	for i, msg := range msgs {
		if msg.Role == "user" && strings.Contains(msg.text(), m.prompt) {
			start = i
		}
	}
	var results []string
	for _, msg := range msgs[start:] {
		if msg.Role == "tool" {
			results = append(results, msg.text())
		}
	}
	return results
}

// reply is the scripted answer to msgs: a tool call (its arguments as
// JSON) or final text.
func (m *fakeModel) reply(msgs []chatMessage) (toolArgs, text string) {
	results := m.toolResults(msgs)
	if n := len(results); n < len(m.commands) {
		args, _ := json.Marshal(map[string]string{"command": m.commands[n]})
		return string(args), ""
	}
	return "", m.final(results)
}

func (m *fakeModel) complete(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	m.mu.Lock()
	m.requests = append(m.requests, req)
	n := len(m.requests)
	m.mu.Unlock()
	toolArgs, text := m.reply(req.Messages)

	id := fmt.Sprintf("chatcmpl-%d", n)
	message := map[string]any{"role": "assistant", "content": text}
	finish := "stop"
	if toolArgs != "" {
		message["content"] = nil
		message["tool_calls"] = []map[string]any{{"index": 0, "id": fmt.Sprintf("call_%d", n), "type": "function",
			"function": map[string]string{"name": "exec", "arguments": toolArgs}}}
		finish = "tool_calls"
	}
	usage := map[string]int{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
	base := map[string]any{"id": id, "created": time.Now().Unix(), "model": req.Model}
	if !req.Stream {
		base["object"] = "chat.completion"
		base["choices"] = []map[string]any{{"index": 0, "message": message, "finish_reason": finish}}
		base["usage"] = usage
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(base)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	send := func(choice map[string]any, extra map[string]any) {
		chunk := map[string]any{"object": "chat.completion.chunk", "choices": []map[string]any{choice}}
		for k, v := range base {
			chunk[k] = v
		}
		for k, v := range extra {
			chunk[k] = v
		}
		data, _ := json.Marshal(chunk)
		fmt.Fprintf(w, "data: %s\n\n", data)
	}
	send(map[string]any{"index": 0, "delta": message, "finish_reason": nil}, nil)
	send(map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": finish}, map[string]any{"usage": usage})
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// received returns the requests received so far.
func (m *fakeModel) received() []chatRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]chatRequest(nil), m.requests...)
}

// toolResultsReceived returns every tool result the model was sent, in the
// order they first appeared.
func (m *fakeModel) toolResultsReceived() []string {
	seen := map[string]bool{}
	var out []string
	for _, req := range m.received() {
		for _, msg := range req.Messages {
			if msg.Role == "tool" && !seen[msg.ToolCallID+"\x00"+msg.text()] {
				seen[msg.ToolCallID+"\x00"+msg.text()] = true
				out = append(out, msg.text())
			}
		}
	}
	return out
}

// config is an openclaw.json whose only provider and default model is m,
// whose exec tool runs commands without OpenClaw's own approvals and does
// not background them within a turn, with prepend (when given) first on the
// exec tool's PATH.
func (m *fakeModel) config(prepend []string) []byte {
	exec := map[string]any{"mode": "full", "backgroundMs": 300000}
	if prepend != nil {
		exec["pathPrepend"] = prepend
	}
	cfg := map[string]any{
		"models": map[string]any{"providers": map[string]any{"fake": map[string]any{
			"baseUrl": m.baseURL, "api": "openai-completions", "apiKey": "none",
			"models": []map[string]any{{"id": "scripted", "name": "scripted", "input": []string{"text"}, "contextWindow": 128000, "maxTokens": 4096}},
		}}},
		"agents": map[string]any{"defaults": map[string]any{"model": map[string]any{"primary": "fake/scripted"}}},
		"tools":  map[string]any{"exec": exec},
	}
	data, _ := json.MarshalIndent(cfg, "", "  ")
	return data
}
