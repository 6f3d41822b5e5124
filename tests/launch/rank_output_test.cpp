// Ranks' output: whole lines, one prefix naming the rank.
#include <doctest/doctest.h>

#include "orchestrator/launch/rank_output.h"

using dojo::launch::RankOutput;

TEST_CASE("a line written in two chunks gets one prefix") {
  RankOutput out(2);
  std::string text = out.feed("[1,0]<stdout>:rank");
  text += out.feed("[1,0]<stdout>: 0\n");
  CHECK(text == "[rank 0] rank 0\n");
}

TEST_CASE("another rank's tag in the middle of a line does not cut it") {
  RankOutput out(2);
  std::string text = out.feed("[1,0]<stdout>:job x: ranks=2[1,1]<stdout>:hello\n");
  text += out.feed("[1,0]<stdout>:\n");
  CHECK(text == "[rank 1] hello\n[rank 0] job x: ranks=2\n");
}

TEST_CASE("tags split across reads, several lines a chunk, stderr, and mpirun's own lines") {
  RankOutput out(4);
  std::string text = out.feed("[1,");
  text += out.feed("3]<stderr>:a\n[1,3]<stderr>:b\nmpirun noticed that process rank 3\n");
  text += out.feed("[1,2]<stdout>:tail without newline");
  text += out.flush();
  CHECK(text ==
        "[rank 3] a\n[rank 3] b\nmpirun noticed that process rank 3\n[rank 2] tail without "
        "newline\n");
}

TEST_CASE("a one-rank job's lines have no prefix; brackets in text are text") {
  RankOutput out(1);
  CHECK(out.feed("[1,0]<stdout>:loss [0.5]\n") == "loss [0.5]\n");
  CHECK(out.feed("[not a tag]\n") == "[not a tag]\n");
}
