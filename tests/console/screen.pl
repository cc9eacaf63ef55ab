#!/usr/bin/perl
# tests/console/screen.pl - cut one region out of a captured console screen
# (tmux capture-pane -p, UTF-8), so a console test asserts on the region an
# action changes, never on text that is on screen anyway.  Used by
# tests/console/tmux.inc; not a test itself.
#
#   screen.pl pane TITLE  < SCREEN   the inside of the box whose top border
#                                    carries TITLE ("Steps", "Exchange",
#                                    "Chain", "Findings", an overlay's title),
#                                    one line per row, trailing blanks cut
#   screen.pl title TITLE < SCREEN   that box's whole title as drawn, e.g.
#                                    "[Chain: trusted]" (brackets: focused)
#   screen.pl new TITLE OLD < SCREEN the rows of that box that are new since
#                                    the screen in file OLD: the box's rows
#                                    after the longest run of OLD's rows that
#                                    they continue (the Exchange scrolls)
#   screen.pl frame       < SCREEN   only the box-drawing characters, every
#                                    other character a blank: the layout
#   screen.pl line N      < SCREEN   row N (1 = top; -1 = last, -2 = the
#                                    one above: the status bar)
# Exit status 1 when TITLE names no box (prints nothing).
use strict;
use warnings;
use utf8;
binmode(STDIN, ':encoding(UTF-8)');
binmode(STDOUT, ':encoding(UTF-8)');

sub rows_of {
    my ($fh) = @_;
    my @r = <$fh>;
    chomp @r;
    return @r;
}

# (top, left, bottom, right, title) of the box titled $want, or ().
sub find_box {
    my ($want, @rows) = @_;
    for my $i (0 .. $#rows) {
        my $line = $rows[$i];
        my $from = 0;
        while ((my $c = index($line, "┌", $from)) >= 0) {
            $from = $c + 1;
            my $r = index($line, "┐", $c);
            next if $r < 0;
            my $title = substr($line, $c + 1, $r - $c - 1);
            $title =~ s/^─+//;
            $title =~ s/─+$//;
            $title =~ s/^ //;
            $title =~ s/ $//;
            (my $bare = $title) =~ s/^\[(.*)\]$/$1/;
            next unless $bare eq $want || index($bare, "$want ") == 0 || index($bare, "$want:") == 0;
            for my $j ($i + 1 .. $#rows) {
                next unless length($rows[$j]) > $c && substr($rows[$j], $c, 1) eq "└";
                return ($i, $c, $j, $r, $title);
            }
        }
    }
    return ();
}

sub body {
    my ($want, @rows) = @_;
    my @b = find_box($want, @rows);
    return undef unless @b;
    my ($t, $l, $bot, $r) = @b;
    my @out;
    for my $j ($t + 1 .. $bot - 1) {
        my $s = length($rows[$j]) > $l + 1 ? substr($rows[$j], $l + 1, $r - $l - 1) : "";
        $s =~ s/\s+$//;
        push @out, $s;
    }
    return \@out;
}

my $mode = shift @ARGV // '';
my @rows = rows_of(\*STDIN);
if ($mode eq 'pane' || $mode eq 'title') {
    my @b = find_box($ARGV[0], @rows);
    exit 1 unless @b;
    if ($mode eq 'title') { print "$b[4]\n"; exit 0; }
    print "$_\n" for @{ body($ARGV[0], @rows) };
} elsif ($mode eq 'new') {
    my $now = body($ARGV[0], @rows);
    exit 1 unless $now;
    open(my $fh, '<:encoding(UTF-8)', $ARGV[1]) or die "$ARGV[1]: $!";
    my $old = body($ARGV[0], rows_of($fh)) // [];
    my @n = grep { $_ ne '' } @$now;
    my @o = grep { $_ ne '' } @$old;
    # the smallest shift s with o[s..] a prefix of n: the most rows kept
    my $s = 0;
    SHIFT: for (; $s < @o; $s++) {
        for my $k ($s .. $#o) {
            next SHIFT if $k - $s > $#n || $o[$k] ne $n[$k - $s];
        }
        last;
    }
    print "$_\n" for @n[@o - $s .. $#n];
} elsif ($mode eq 'frame') {
    for (@rows) {
        (my $f = $_) =~ s/[^─│┌┐└┘├┤┬┴┼]/ /g;
        $f =~ s/\s+$//;
        print "$f\n";
    }
} elsif ($mode eq 'line') {
    my $n = $ARGV[0];
    my $i = $n < 0 ? @rows + $n : $n - 1;
    print(($i >= 0 && $i < @rows ? $rows[$i] : ''), "\n");
} else {
    die "usage: screen.pl pane|title|new|frame|line ...\n";
}
