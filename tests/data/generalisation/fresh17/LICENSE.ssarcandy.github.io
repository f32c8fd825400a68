Source: SSARCandy/ssarcandy.github.io (be032ad53262beeb7785d8ca8e63c57b1fbbd0fb), licence: NOASSERTION
(No licence file checked; one configuration line quoted from a blog post in the repository.)
