"""`python -m corpus.quality`: train or apply the quality classifier by hand."""

from corpus.quality.training import main

if __name__ == "__main__":
    main()
