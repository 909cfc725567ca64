# docs/ranges.png from the samples of tests/sim/ranges_picture (docs/ranges.md):
#   gnuplot -e "dat='build/ranges.dat'" docs/ranges.gp
if (!exists("dat")) dat = 'ranges.dat'
if (!exists("out")) out = 'docs/ranges.png'
set terminal pngcairo size 1100,560 font ",10"
set output out
set title "Responsible ranges: who takes the new connections of each bucket (5 nodes, 1024 buckets, 100 ms heartbeats, 2 % loss)"
set xlabel "time (ms)"
set ylabel "bucket"
set xrange [0:6000]
set yrange [0:1023]
set cbrange [-0.5:9.5]
set palette maxcolors 10
set palette defined (0 "white", 1 "#1f77b4", 2 "#ff7f0e", 3 "#2ca02c", 4 "#9467bd", 5 "#8c564b", \
                     6 "white", 7 "white", 8 "white", 9 "red")
set cbtics ("none" 0, "node 1" 1, "node 2" 2, "node 3" 3, "node 4" 4, "node 5" 5, "two or more" 9)
set arrow from 1000, graph 0 to 1000, graph 1 nohead dt 2 lc "black" front
set arrow from 2000, graph 0 to 2000, graph 1 nohead dt 2 lc "black" front
set arrow from 3000, graph 0 to 3000, graph 1 nohead dt 2 lc "black" front
set arrow from 4000, graph 0 to 4000, graph 1 nohead dt 2 lc "black" front
set arrow from 5000, graph 0 to 5000, graph 1 nohead dt 2 lc "black" front
set label "5 joins" at 1020, graph 1.02 front
set label "2 crashes" at 2020, graph 1.02 front
set label "{1,3} | {4,5}" at 3020, graph 1.02 front
set label "heal" at 4020, graph 1.02 front
set label "2 restarts" at 5020, graph 1.02 front
plot dat matrix using ($2 * 10):1:3 with image notitle
