use strict; use warnings; use Sisimai; use JSON::PP;
my $json = JSON::PP->new->canonical(1)->utf8(1);
for my $f (@ARGV) {
  my $v = Sisimai->make($f, 'delivered' => 1) || [];
  (my $name = $f) =~ s{.*/}{};
  for my $e (@$v) {
    print $json->encode({file=>$name, recipient=>$e->recipient->address, reason=>$e->reason,
      action=>$e->action, status=>$e->deliverystatus, command=>$e->smtpcommand, replycode=>"".($e->replycode//''),
      agent=>$e->smtpagent, feedbacktype=>$e->feedbacktype, diagnostic=>$e->diagnosticcode}), "\n";
  }
  print $json->encode({file=>$name, none=>JSON::PP::true}), "\n" unless @$v;
}
