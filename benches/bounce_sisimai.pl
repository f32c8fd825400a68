#!/usr/bin/perl
# Times Sisimai (Debian's libsisimai-perl) on the same messages as benches/bounce.rs:
# every file is read into memory first, then parsed ROUNDS times; prints the median
# messages per second over the rounds. Usage: perl bounce_sisimai.pl ROUNDS FILE...
use strict; use warnings;
use Sisimai; use Sisimai::Message; use Sisimai::Data;
use Time::HiRes qw(time);
my $rounds = shift @ARGV;
my @msgs = map { local $/; open my $fh, '<', $_ or die "$_: $!"; my $d = <$fh>; $d } @ARGV;
my @rates;
for (1 .. $rounds) {
    my $t = time; my $found = 0;
    for my $m (@msgs) {
        my $mesg = Sisimai::Message->new('data' => $m) or next;
        my $data = Sisimai::Data->make('data' => $mesg, 'delivered' => 1) || [];
        $found += scalar @$data;
    }
    push @rates, scalar(@msgs) / (time - $t);
}
@rates = sort { $a <=> $b } @rates;
printf "sisimai %s messages=%d rounds=%d median_msgs_per_sec=%.1f\n", $Sisimai::VERSION, scalar(@msgs), $rounds, $rates[int(@rates / 2)];
