package deploy_test

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// sqlKeywords are the SQL words the dashboard queries may use.
var sqlKeywords = map[string]bool{
	"select": true, "from": true, "where": true, "and": true, "or": true, "not": true, "in": true,
	"as": true, "group": true, "by": true, "order": true, "asc": true, "desc": true, "limit": true,
	"is": true, "null": true, "having": true, "distinct": true, "case": true, "when": true,
	"then": true, "else": true, "end": true, "like": true, "between": true,
}

// sqlFunctions are the functions the dashboard queries may call: each exists
// in Debian's ClickHouse 18.16 (CI) and in current ClickHouse, and none needs
// FINAL or toStartOfInterval (DESIGN.md's SQL subset).
var sqlFunctions = map[string]bool{
	"count": true, "sum": true, "avg": true, "max": true, "min": true, "uniqExact": true,
	"argMax": true, "toDateTime": true, "toStartOfDay": true, "toDate": true, "concat": true,
	"toString": true, "toUInt8": true, "toUInt32": true, "least": true, "greatest": true,
	"floor": true, "round": true, "intDiv": true, "if": true, "toStartOfMonth": true, "toFloat64OrZero": true,
}

// templateVars are the variables a query may interpolate: quoted and
// escaped by Grafana (:singlequote), the prices converted by
// toFloat64OrZero, so no value can change the SQL.
var templateVars = map[string]bool{
	"${app_id:singlequote}": true, "${audio_price_usd:singlequote}": true, "${video_price_usd:singlequote}": true,
}

var (
	reTemplateVar = regexp.MustCompile(`\$\{[^}]*\}|\[\[[^\]]*\]\]`)
	reMacro       = regexp.MustCompile(`\$__\w+`)
	reTimeMacro   = regexp.MustCompile(`\$__(timeFilter|dateFilter)\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)`)
	reAppFilter   = regexp.MustCompile(`\bapp_id\s*=\s*\$\{app_id:singlequote\}`)
	reString      = regexp.MustCompile(`'(?:[^'\\]|\\.)*'`)
	reToken       = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?|\S`)
)

// lintOptions says what a query must contain.
type lintOptions struct {
	timeFilter bool // a $__timeFilter/$__dateFilter on a time column of a view it reads
	appFilter  bool // app_id = ${app_id:singlequote}
}

// lintResult is what lintSQL found in one query.
type lintResult struct {
	views    []string // views read, sorted, without repeats
	problems []string
}

// lintSQL checks a dashboard query against the view contract: it may read
// only contract views, name only their columns (or aliases it defines), call
// only sqlFunctions, use only templateVars and the time macros, and must filter as opts says.
func lintSQL(sql string, opts lintOptions) lintResult {
	var r lintResult
	bad := func(format string, a ...any) { r.problems = append(r.problems, fmt.Sprintf(format, a...)) }

	for _, v := range reTemplateVar.FindAllString(sql, -1) {
		if !templateVars[v] {
			bad("template variable %s: only %v (quoted and escaped) may be interpolated", v, slices.Sorted(maps.Keys(templateVars)))
		}
	}
	if opts.appFilter && !reAppFilter.MatchString(sql) {
		bad("no app_id = ${app_id:singlequote} filter: every query is scoped to the selected app")
	}
	type timeUse struct{ macro, col string }
	var timeUses []timeUse
	for _, m := range reTimeMacro.FindAllStringSubmatch(sql, -1) {
		timeUses = append(timeUses, timeUse{m[1], m[2]})
	}
	// Replace the macros by plain conditions on their column, so that the
	// column is checked like any other identifier.
	s := reTimeMacro.ReplaceAllString(sql, "$2 >= 0")
	for _, m := range reMacro.FindAllString(s, -1) {
		bad("macro %s: only $__timeFilter(column) and $__dateFilter(column) are used", m)
	}
	s = reMacro.ReplaceAllString(s, "0")
	s = reTemplateVar.ReplaceAllString(s, "''")
	s = reString.ReplaceAllString(s, "''")
	if opts.timeFilter && len(timeUses) == 0 {
		bad("no $__timeFilter/$__dateFilter: the panel ignores the dashboard's time range")
	}

	toks := reToken.FindAllString(s, -1)
	isIdent := func(t string) bool {
		return t != "" && (t[0] == '_' || t[0] >= 'A' && t[0] <= 'Z' || t[0] >= 'a' && t[0] <= 'z')
	}
	next := func(i int) string {
		if i+1 < len(toks) {
			return toks[i+1]
		}
		return ""
	}
	aliases := map[string]bool{}
	for i, t := range toks {
		switch {
		case t == `"` || t == "`":
			bad("quoted identifier: the views have plain names")
		case strings.EqualFold(t, "as") && isIdent(next(i)):
			aliases[next(i)] = true
		case (strings.EqualFold(t, "from") || strings.EqualFold(t, "join")) && isIdent(next(i)):
			v := next(i)
			if _, ok := contract[v]; !ok {
				bad("reads %s, which is not a BI view of the contract", v)
			} else if !slices.Contains(r.views, v) {
				r.views = append(r.views, v)
			}
		}
	}
	slices.Sort(r.views)
	inViews := func(col string) bool {
		for _, v := range r.views {
			if _, ok := columnType(v, col); ok {
				return true
			}
		}
		return false
	}
	for i, t := range toks {
		if !isIdent(t) {
			continue
		}
		prev := ""
		if i > 0 {
			prev = toks[i-1]
		}
		switch {
		case strings.EqualFold(t, "final"):
			bad("FINAL: the views need none")
		case sqlKeywords[strings.ToLower(t)]:
		case next(i) == "(":
			if !sqlFunctions[t] {
				bad("function %s is not in the checked subset (ClickHouse 18.16 and current)", t)
			}
		case strings.EqualFold(prev, "from") || strings.EqualFold(prev, "join"):
			// a view, checked above
		case aliases[t]:
		case inViews(t):
		default:
			bad("identifier %s is neither a column of %v nor an alias", t, r.views)
		}
	}
	for _, u := range timeUses {
		want := "DateTime"
		if u.macro == "dateFilter" {
			want = "Date"
		}
		ok := false
		for _, v := range r.views {
			if typ, found := columnType(v, u.col); found && typ == want {
				ok = true
			}
		}
		if !ok {
			bad("$__%s(%s): not a %s column of %v", u.macro, u.col, want, r.views)
		}
	}
	return r
}
