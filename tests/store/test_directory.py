from store.directory import Directory, Entry


def entry(i, first, last, kind="patient", email="", phone=""):
    return Entry(i, kind, first, last, email, phone, False, True)


DIRECTORY = [
    entry(1, "Maria", "Rossi", email="maria.rossi@libero.example", phone="+393471234567"),
    entry(2, "Mario", "Rossini", email="mr@gmail.example"),
    entry(3, "Anna", "Rossi", kind="resource", phone="+393331112222"),
    entry(4, "Luca", "Bianchi", kind="user", email="luca@rossi.example"),
]


def names(directory, found):
    return [directory.entries[i].first_name for i in found]


def test_every_word_must_match_name_email_or_phone():
    directory = Directory(DIRECTORY)
    assert names(directory, directory.search("rossi")) == ["Maria", "Mario", "Anna", "Luca"]
    assert names(directory, directory.search("rossi mar")) == ["Maria", "Mario"]
    assert names(directory, directory.search("ROSSI MARIA")) == ["Maria"]
    assert names(directory, directory.search("347")) == ["Maria"]
    assert names(directory, directory.search("")) == ["Maria", "Mario", "Anna", "Luca"]


def test_typing_on_narrows_and_going_back_widens_again():
    directory = Directory(DIRECTORY)
    assert names(directory, directory.search("ro")) == ["Maria", "Mario", "Anna", "Luca"]
    assert names(directory, directory.search("ros", "patient")) == ["Maria", "Mario"]
    assert names(directory, directory.search("rossin", "patient")) == ["Mario"]
    assert names(directory, directory.search("ross", "patient")) == ["Maria", "Mario"]
    assert names(directory, directory.search("rossi ", "patient")) == ["Maria", "Mario"]
    assert names(directory, directory.search("rossi luca")) == ["Luca"]
    assert names(directory, directory.search("ross", "resource")) == ["Anna"]
