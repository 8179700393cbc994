package netconf

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseJump(t *testing.T) {
	tests := []struct {
		in      string
		want    []JumpHost
		wantErr string
	}{
		{"bastion", []JumpHost{{Name: "bastion"}}, ""},
		{"netops@bastion.example.net:2222", []JumpHost{{Name: "bastion.example.net", Port: 2222, User: "netops"}}, ""},
		{"a,b@c:22", []JumpHost{{Name: "a"}, {Name: "c", Port: 22, User: "b"}}, ""},
		{" a , b ", []JumpHost{{Name: "a"}, {Name: "b"}}, ""},
		{"ssh://u@h:22", []JumpHost{{Name: "h", Port: 22, User: "u"}}, ""},
		{"[2001:db8::1]", []JumpHost{{Name: "2001:db8::1"}}, ""},
		{"u@[2001:db8::1]:22", []JumpHost{{Name: "2001:db8::1", Port: 22, User: "u"}}, ""},
		{"user@domain@h", []JumpHost{{Name: "h", User: "user@domain"}}, ""},
		{"none", []JumpHost{}, ""},
		{"", nil, "empty"},
		{"a,,b", nil, `hop 2 (""): empty jump host`},
		{"a,none", nil, `hop 2 ("none"): "none" cannot be part of a chain`},
		{"@h", nil, `empty user name before "@"`},
		{"h:", nil, `empty port after ":"`},
		{"h:0", nil, `port "0" is not a number in 1..65535`},
		{"h:ssh", nil, `port "ssh" is not a number in 1..65535`},
		{"2001:db8::1", nil, "write an IPv6 address in brackets"},
		{"[2001:db8::1", nil, `"[" without "]"`},
		{"[::1]x", nil, `unexpected "x" after "]"`},
		{"-oProxyCommand=x", nil, "must not start with -"},
		{"h/x", nil, `"h/x" is not a host name or address`},
		{"a b", nil, "must not contain spaces"},
		{"a,b,a", nil, `"a" is listed twice`},
	}
	for _, tt := range tests {
		got, err := ParseJump(tt.in)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseJump(%q) = %+v, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("ParseJump(%q): %v", tt.in, err)
		case !reflect.DeepEqual(got, tt.want):
			t.Errorf("ParseJump(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
