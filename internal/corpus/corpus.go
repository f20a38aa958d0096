package corpus

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Config shapes a corpus. Zero fields take the defaults noted.
type Config struct {
	// Sessions is the number of sessions (meetings and calls) to generate.
	Sessions int
	// Seed makes the corpus reproducible (default 1).
	Seed uint64
	// Apps is the number of CometChat apps the sessions are spread over (default 3).
	Apps int
	// Users is the pool of people per app (default 300, at most 1,600).
	Users int
	// Start and Span bound the sessions' start times: [Start, Start+Span)
	// (default 2024-03-06 07:00 UTC, a Wednesday, and 14 days).
	Start time.Time
	Span  time.Duration
	// CallShare is the share of sessions that are 1:1 ringing calls (default 0.2;
	// negative for none).
	CallShare float64
}

func (c *Config) setDefaults() {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Apps == 0 {
		c.Apps = 3
	}
	if c.Users == 0 {
		c.Users = 300
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2024, 3, 6, 7, 0, 0, 0, time.UTC)
	}
	if c.Span == 0 {
		c.Span = 14 * 24 * time.Hour
	}
	if c.CallShare == 0 {
		c.CallShare = 0.2
	}
	if c.CallShare < 0 {
		c.CallShare = 0
	}
}

// Validate names every problem of a Config (after defaults).
func (c Config) Validate() error {
	var errs []error
	if c.Sessions < 0 {
		errs = append(errs, fmt.Errorf("corpus: Sessions %d is negative", c.Sessions))
	}
	if c.Apps < 1 {
		errs = append(errs, fmt.Errorf("corpus: Apps %d: want at least 1", c.Apps))
	}
	if c.Users < 2 || c.Users > len(firstNames)*len(lastNames) {
		errs = append(errs, fmt.Errorf("corpus: Users %d: want 2 to %d", c.Users, len(firstNames)*len(lastNames)))
	}
	if c.Span < time.Hour {
		errs = append(errs, fmt.Errorf("corpus: Span %s: want at least 1h", c.Span))
	}
	if c.CallShare > 1 {
		errs = append(errs, fmt.Errorf("corpus: CallShare %v: want at most 1", c.CallShare))
	}
	return errors.Join(errs...)
}

// Kinds of session the generator makes.
const (
	KindMeeting = "meeting"
	KindCall    = "call"
)

// Session is one generated CometChat session and the distinct events of it
// that are delivered (in no particular order; each once — Deliveries adds the
// duplicates). Events that real traffic loses are not in it.
type Session struct {
	// Index is the session's number in the corpus (0-based).
	Index     int
	AppID     string
	SessionID string
	Region    string
	// Webhooks are the ids of the app's two webhook configurations: each
	// event is delivered through the first, duplicates through either.
	Webhooks [2]string
	// Kind is what was generated: a "meeting" or a 1:1 ringing "call".
	Kind string
	// Scenario names how the session was generated, for test logs and coverage
	// (e.g. "meeting/ended", "meeting/no-end", "call/rejected").
	Scenario string
	Events   []Event
}

// Event is one CometChat webhook's content; Render writes it as a body.
type Event struct {
	// Trigger is CometChat's trigger, e.g. "meeting_participant_joined".
	Trigger string
	// Type is the top-level "type" ("meet" or "call"), "" when not sent.
	Type string
	// CreatedAt is meeting_started/call_started's and *_ended's created_at
	// (0: not sent); DestroyedAt is *_ended's destroyed_at.
	CreatedAt, DestroyedAt int64
	// Occupant is the occupant of *_participant_joined/left.
	Occupant *Occupant
	// Client is a join's initial_config (nil: not sent).
	Client *Client
	// AllOccupants is *_ended's all_occupants; nil: not sent.
	AllOccupants  []Occupant
	Recording     *Recording
	Transcription *Transcription
	Ringing       *Ringing
}

// Occupant is a participant's presence as CometChat reports it.
type Occupant struct {
	// UID is sent for some people only; Name always.
	UID, Name string
	// JoinedAt and LeftAt are Unix seconds; LeftAt 0 is not sent (a join).
	JoinedAt, LeftAt int64
	// AudioCall is CometChat's "audio_call".
	AudioCall bool
}

// Client is the part of initial_config that varies.
type Client struct {
	Platform, SDK string
	AudioOnly     bool
}

// Recording is recording_generated's data.
type Recording struct {
	URL       string
	StartTime int64
	// Duration is in seconds, with millisecond precision.
	Duration float64
	Date     string
}

// Transcription is transcription_generated's data.
type Transcription struct {
	TID, URL           string
	StartTime, EndTime int64
	Date               string
}

// Ringing is a ringing-flow event's data.call (call_initiated, call_busy,
// call_cancelled, call_rejected, call_unanswered).
type Ringing struct {
	CallID string
	// Action is data.call.data.action: "initiated", "busy", …
	Action             string
	Sender, SenderName string
	Receiver           string
	// Media is data.call.type: "audio" or "video".
	Media string
	// SentAt is sentAt and updatedAt; InitiatedAt is entities.on.entity.initiatedAt.
	SentAt, InitiatedAt int64
}

// user is a person of an app's pool.
type user struct {
	uid, name string
	// sendsUID: CometChat puts the uid into this person's occupant payloads.
	sendsUID bool
}

type app struct {
	id, region string
	webhooks   [2]string // two webhook configurations deliver to meetingd
	users      []user
}

// Generator makes the sessions of one Config; Session(i) is a pure function
// of the Config and i. Safe for concurrent use.
type Generator struct {
	cfg  Config
	apps []app
}

// New returns the Generator of cfg.
func New(cfg Config) (*Generator, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Generator{cfg: cfg}
	r := rand.New(rand.NewPCG(cfg.Seed, 0xa995))
	regions := []string{"us", "eu", "in"}
	for k := range cfg.Apps {
		a := app{id: fmt.Sprintf("%016x", r.Uint64()), region: regions[k%len(regions)]}
		a.webhooks = [2]string{fmt.Sprintf("wh-%s-%d", a.id[:6], 1), fmt.Sprintf("wh-%s-%d", a.id[:6], 2)}
		combos := r.Perm(len(firstNames) * len(lastNames))[:cfg.Users]
		for n, c := range combos {
			a.users = append(a.users, user{
				uid:      fmt.Sprintf("cometchat-uid-%d", n+1),
				name:     firstNames[c%len(firstNames)] + " " + lastNames[c/len(firstNames)],
				sendsUID: r.Float64() < 0.25,
			})
		}
		g.apps = append(g.apps, a)
	}
	return g, nil
}

// Config returns the generator's Config, defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// Generate returns the corpus of cfg: cfg.Sessions sessions.
func Generate(cfg Config) ([]Session, error) {
	g, err := New(cfg)
	if err != nil {
		return nil, err
	}
	out := make([]Session, g.cfg.Sessions)
	for i := range out {
		out[i] = g.Session(i)
	}
	return out, nil
}

// Session returns session i (any i ≥ 0: the corpus can be streamed past
// Config.Sessions).
func (g *Generator) Session(i int) Session {
	r := rand.New(rand.NewPCG(g.cfg.Seed, uint64(i)+1))
	a := &g.apps[i%len(g.apps)]
	start := g.cfg.Start.Unix() + r.Int64N(int64(g.cfg.Span/time.Second))
	s := Session{
		Index: i, AppID: a.id, Region: a.region, Webhooks: a.webhooks,
		SessionID: fmt.Sprintf("v1.%s.%s.%d%08x%08x", a.region, a.id, start, uint32(i), r.Uint32()),
	}
	b := &builder{r: r, app: a, s: &s}
	if r.Float64() < g.cfg.CallShare {
		s.Kind = KindCall
		b.call(i, start)
	} else {
		s.Kind = KindMeeting
		b.meeting(start)
	}
	return s
}

// Occupant pools: 40 × 40 distinct names.
var (
	firstNames = []string{
		"Andrew", "George", "Maria", "Aiko", "Chen", "Fatima", "Olga", "Pedro", "Ines", "Kwame",
		"Liam", "Noah", "Emma", "Sofia", "Mateo", "Hana", "Ravi", "Priya", "Yusuf", "Zoe",
		"Lucas", "Mia", "Omar", "Lena", "Ivan", "Nina", "Tariq", "Elif", "Jonas", "Ada",
		"Bruno", "Clara", "Dmitri", "Eva", "Felix", "Greta", "Hugo", "Iris", "José", "Karin",
	}
	lastNames = []string{
		"Joseph", "Alan", "Garcia", "Tanaka", "Wei", "Haddad", "Ivanova", "Santos", "Moreau", "Mensah",
		"Smith", "Müller", "Rossi", "Kowalski", "Nguyen", "Kim", "Patel", "Sharma", "Demir", "O'Brien",
		"Silva", "Novak", "Larsen", "Dubois", "Fischer", "Costa", "Yilmaz", "Berg", "Jensen", "Lopez",
		"Khan", "Ali", "Schmidt", "Romano", "Horvat", "Svensson", "Petrov", "Conti", "Weber", "Okafor",
	}
)
