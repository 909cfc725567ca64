# Overhead of the reliable broadcast against induced packet loss.
#
#   build-srel/sim_measure docs/cluster-loss.dat
#   build-srel/sim_measure -r 10 docs/cluster-loss-r10.dat
#   gnuplot docs/cluster-loss.gp        (from the top of the tree)
#
# Columns of the .dat files: loss overhead target(1.5*loss) delivered/expected
# naks resync sync out_of_sync downs duplicates heartbeats
# overhead_with_heartbeats (see tests/sim/measure.c).
set terminal pngcairo size 900,560 noenhanced font ",10"
set output 'docs/cluster-loss.png'
set title "Reliable broadcast: overhead vs induced loss\n3 nodes, one message per 100 ms each; HeartbeatInterval 100 ms, DeadInterval 3, SendBuffer 256"
set xlabel 'induced loss per datagram and link (%)'
set ylabel 'overhead = (NAK + resync) / (NAK + resync + sync)  (%)'
set key top left box opaque
set grid
set xrange [0:31]
set yrange [0:80]
plot 'docs/cluster-loss.dat' using ($1*100):($2*100) with points pt 7 ps 1.3 \
         title 'measured, 60 s per point', \
     'docs/cluster-loss-r10.dat' using ($1*100):($2*100) with linespoints lw 2 pt 6 \
         title 'measured, 10 x 60 s per point', \
     'docs/cluster-loss-r10.dat' using ($1*100):($12*100) with linespoints lw 1 dt 3 pt 4 \
         title 'same, heartbeats counted as sync', \
     1.5*x with lines dt 2 lw 2 title 'target: y = 1.5 x loss', \
     100*(4*x/100)/(1+4*x/100) with lines dt 4 lw 2 lc rgb '#444444' \
         title 'one NAK + one resend per lost copy, 2 receivers: 4p/(1+4p)'
