package pii

// commonWords are English words of three or more letters that are too ordinary to mask when they
// appear alone, even though they are also parts of people's names: masking "will", "bill" or
// "green" whenever a caller called Will Green is in the conversation would garble most replies.
// The list covers the most frequent words of everyday English and the words that double as given
// names or surnames (months, virtues, colours, trades).
var commonWords = toSet(`
the and for are but not you all any can had her was one our out day get has him his how man new now
old see two way who boy did its let put say she too use that with have this will your from they know
want been good much some time very when come here just like long make many more only over such take
than them well were what year also back been call came each even find give hand high keep last left
life live look made most move must name need next open part play read right said same seem show side
tell turn went work about after again air along also another answer away before below between both
change close could country different does down end every face father few first follow food form found
great group hard head help home house important into kind land large learn line little mean might
mile miss mother near never night number often other own page paper people picture place point
right run school sea second should small sound spell start still stop story study such sure thing
think three through together tree try under until water where which while white why word world
would write young

today tomorrow tonight morning evening afternoon week weekend month monday tuesday wednesday
thursday friday saturday sunday january february march april may june july august september
october november december

will bill mark rose may june april august grace hope joy faith dawn rich grant chase hunter king
brown white black green gray grey long short hall hill wood woods stone lake park young page gold
rice price love star sky summer winter autumn spring storm rain snow river brook glen dale heath
field fields ford banks bush fox wolf bird crane hawk sunny amber ruby
pearl jade ivy lily daisy holly hazel olive violet iris heather fern penny honey sugar candy cash
frank earnest sterling noble major duke prince baron dean chance christian miles rod jack mac
sue gene herb pat nick rob sandy van wade drew carol art ray baker barber bishop butcher carpenter
cook gardener porter shepherd walker ward
guy man mom dad son daughter wife husband mister miss missus sir madam doctor nurse

appointment appt cleaning tooth teeth filling crown service repair quote estimate invoice price
pay paid card cash check call text message phone number email address street avenue road drive
thanks thank please sorry hello okay yes yeah nope car truck van heater furnace leak sink toilet
`)
