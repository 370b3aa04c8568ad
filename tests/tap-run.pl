#!/usr/bin/perl
# Runs the test programs through TAP::Harness (prove's engine) in every mode
# asked for, as one aggregate, and ends with a "N passed, N failed" line.
#   tap-run.pl [--jobs N] MODE:PROGRAM ...
# MODE is root, user (the unprivileged test user, through setpriv) or userns
# (that user inside `unshare -r`: uid 0 in a user namespace, no host privilege).
use strict;
use warnings;
use TAP::Harness;

my $jobs = 1;
if (@ARGV >= 2 && $ARGV[0] eq '--jobs') { shift @ARGV; $jobs = shift @ARGV; }
my $user = $ENV{CLOISTER_TEST_USER} // 'cloister-test';
my @pass_env = map { "$_=$ENV{$_}" } grep { defined $ENV{$_} }
    qw(CLOISTER_TEST_MUST_WORK ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS CLOISTER_TEST_FILTER);

my @as_user = ('setpriv', "--reuid=$user", "--regid=$user", '--init-groups', '--reset-env',
               'env', 'TMPDIR=/tmp', @pass_env);
my %prefix = (
    root   => [],
    user   => [@as_user],
    userns => [@as_user, 'unshare', '--user', '--map-root-user', '--'],
);

my @tests;
for my $arg (@ARGV) {
    my ($mode, $prog) = split /:/, $arg, 2;
    die "tap-run: unknown mode '$mode'\n" unless exists $prefix{$mode};
    die "tap-run: no test program '$prog'\n" unless -f $prog && -x $prog;
    push @tests, ["$mode:$prog", "$mode $prog"];
}

my $harness = TAP::Harness->new({
    jobs => $jobs,
    timer => 1,
    exec => sub {
        my ($h, $spec) = @_;
        my ($mode, $prog) = split /:/, $spec, 2;
        my @args = defined $ENV{CLOISTER_TEST_FILTER} ? ($ENV{CLOISTER_TEST_FILTER}) : ();
        return [@{$prefix{$mode}}, $prog, @args];
    },
});
my $agg = $harness->runtests(@tests);
my $passed = scalar $agg->passed;
my $failed = scalar $agg->failed;
$failed += 1 if $agg->has_errors && !$failed;
printf "%d passed, %d failed, %d skipped\n", $passed, $failed, scalar $agg->skipped;
exit($agg->all_passed ? 0 : 1);
