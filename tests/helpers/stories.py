"""A distinct news story per number, long enough for the text filters: pages of a fake site."""


def paragraphs(i: int) -> list[str]:
    """Three paragraphs about shed `i`: no two numbers give near-duplicate pages."""
    return [f"Story number {i} begins with the harbour council, which met on day {i} to decide the future of "
            f"shed {i}. Traders said the building had stood empty for {i + 3} years and that families in "
            f"district {i} needed a market close to home.",
            f"Engineers who surveyed shed {i} found the timber sound, but gutter {i} must be replaced before "
            f"winter. The council asked for a plan by spring, and neighbours asked for a study of parking and "
            f"deliveries around quay {i} before any money was spent.",
            f"The mayor promised a public meeting about shed {i} in March. Plans and costs will be shown "
            f"there, and residents of district {i} may comment until the end of April."]
